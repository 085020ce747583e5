/**
 * Where an ext2/3/4 inode's data blocks are: extent trees (ext4) and legacy block maps (direct,
 * indirect, double and triple indirect blocks; ext2/ext3), both turned into sorted runs of
 * logical → physical blocks. physical 0 marks an uninitialised extent (read as zeros); logical
 * ranges with no run are holes.
 */

export interface Run {
  logical: number;
  physical: number;
  len: number;
}

/** What the block readers need from the filesystem. */
export interface BlockDevice {
  readonly sb: { blockSize: number; blocksCount: number };
  dev(pos: number, n: number, what: string, inner?: string): Uint8Array;
  fail(code: string, msg: string, inner?: string): never;
}

const EXTENT_MAGIC = 0xf30a;
const MAX_DEPTH = 5;

function push(out: Run[], logical: number, physical: number, len: number): void {
  const last = out[out.length - 1];
  if (last && last.logical + last.len === logical && physical !== 0 && last.physical !== 0 && last.physical + last.len === physical) last.len += len;
  else out.push({ logical, physical, len });
}

function checkBlock(fs: BlockDevice, blk: number, len: number, what: string, inner: string): void {
  if (blk + len > fs.sb.blocksCount)
    fs.fail("corrupt", `${what} at block ${blk}${len > 1 ? ` (+${len})` : ""} is beyond the filesystem's ${fs.sb.blocksCount} blocks`, inner);
}

/** The runs of an extent tree whose root is i_block; extents past `nblocks` are ignored. */
export function readExtentRuns(fs: BlockDevice, root: Uint8Array, nblocks: number, inner: string): Run[] {
  const out: Run[] = [];
  const seen = new Set<number>();
  const node = (b: Uint8Array, expectDepth: number | undefined, where: string): void => {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (dv.getUint16(0, true) !== EXTENT_MAGIC) fs.fail("corrupt", `no extent header magic in ${where}`, inner);
    const entries = dv.getUint16(2, true);
    const depth = dv.getUint16(6, true);
    if (depth > MAX_DEPTH) fs.fail("corrupt", `extent tree depth ${depth} in ${where}: more than ${MAX_DEPTH}`, inner);
    if (expectDepth !== undefined && depth !== expectDepth) fs.fail("corrupt", `extent node ${where} has depth ${depth}, ${expectDepth} expected`, inner);
    if (12 + entries * 12 > b.length) fs.fail("corrupt", `${entries} extent entries do not fit in ${where}`, inner);
    for (let i = 0; i < entries; i++) {
      const e = 12 + i * 12;
      const lblk = dv.getUint32(e, true);
      if (depth === 0) {
        let len = dv.getUint16(e + 4, true);
        const uninit = len > 32768;
        if (uninit) len -= 32768;
        const pblk = dv.getUint16(e + 6, true) * 0x1_0000_0000 + dv.getUint32(e + 8, true);
        if (lblk >= nblocks || len === 0) continue;
        len = Math.min(len, nblocks - lblk);
        if (out.length > 0) {
          const last = out[out.length - 1];
          if (lblk < last.logical + last.len) fs.fail("corrupt", `extents overlap or are out of order at logical block ${lblk} in ${where}`, inner);
        }
        if (uninit) push(out, lblk, 0, len);
        else {
          checkBlock(fs, pblk, len, "an extent", inner);
          if (pblk === 0) fs.fail("corrupt", `an extent points to block 0 in ${where}`, inner);
          push(out, lblk, pblk, len);
        }
      } else {
        const leaf = dv.getUint32(e + 4, true) + dv.getUint16(e + 8, true) * 0x1_0000_0000;
        if (lblk >= nblocks) continue;
        checkBlock(fs, leaf, 1, "an extent index node", inner);
        if (leaf === 0) fs.fail("corrupt", `an extent index points to block 0 in ${where}`, inner);
        if (seen.has(leaf)) fs.fail("loop", `the extent tree comes back to block ${leaf}`, inner);
        seen.add(leaf);
        const child = fs.dev(leaf * fs.sb.blockSize, fs.sb.blockSize, `extent node block ${leaf}`, inner);
        node(child, depth - 1, `extent node block ${leaf}`);
      }
    }
  };
  node(root, undefined, "the inode's extent root");
  return out;
}

/** The runs of a legacy block map (i_block[0..11] direct, [12] indirect, [13] double, [14] triple). */
export function readMapRuns(fs: BlockDevice, iblock: Uint8Array, nblocks: number, inner: string): Run[] {
  const out: Run[] = [];
  const bs = fs.sb.blockSize;
  const per = bs / 4;
  const root = new DataView(iblock.buffer, iblock.byteOffset, 60);
  let logical = 0;
  let mapped = 0; // data and indirect blocks: a file cannot hold more than the filesystem has
  const count = () => {
    if (++mapped > fs.sb.blocksCount) fs.fail("corrupt", `the block map names more blocks than the filesystem's ${fs.sb.blocksCount}`, inner);
  };
  const data = (pblk: number) => {
    if (pblk !== 0) {
      count();
      checkBlock(fs, pblk, 1, `data block ${logical}`, inner);
      push(out, logical, pblk, 1);
    }
    logical++;
  };
  // Walk an indirect block of `level` (1 = it lists data blocks); a 0 pointer is a hole.
  const indirect = (pblk: number, level: number): void => {
    const span = per ** level;
    if (pblk === 0) {
      logical += span;
      return;
    }
    count();
    checkBlock(fs, pblk, 1, "an indirect block", inner);
    const b = fs.dev(pblk * bs, bs, `indirect block ${pblk}`, inner);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < per && logical < nblocks; i++) {
      const p = dv.getUint32(i * 4, true);
      if (level === 1) data(p);
      else indirect(p, level - 1);
    }
  };
  for (let i = 0; i < 12 && logical < nblocks; i++) data(root.getUint32(i * 4, true));
  for (let level = 1; level <= 3 && logical < nblocks; level++) indirect(root.getUint32((11 + level) * 4, true), level);
  if (logical < nblocks) fs.fail("corrupt", `${nblocks} blocks do not fit in a block map`, inner);
  return out;
}

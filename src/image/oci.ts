/**
 * Container images: an OCI image layout (a directory, or a tar of one) and `docker save`
 * tarballs. The manifest names the layers; they are applied from the top layer down, honouring
 * whiteouts (`.wh.NAME` hides NAME below) and opaque directories (`.wh..wh..opq` hides the lower
 * layers' contents of its directory), and only until both the rpm database and os-release are
 * found: lower layers are then not read at all. An uncompressed outer tar is indexed by its
 * headers only (layers are read in place); a compressed one is unpacked to a temporary file first.
 */
import { closeSync, openSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DB_FILES } from "../rpmdb/index.ts";
import { FileSource } from "../rpmdb/source.ts";
import { tempDir } from "./cleanup.ts";
import { DirTree } from "./dir.ts";
import { ImageError } from "./errors.ts";
import { MemTree } from "./memtree.ts";
import { compressionOf, decompress, sourceChunks } from "./stream.ts";
import { keepEntry, limitsOf, normalizeEntry, OS_RELEASE, parseTarHeader, RPMDB_DIRS, tarEntries, wantedFile, type TarLimits } from "./tar.ts";
import { SliceSource, type ByteSource } from "./tree.ts";

/** Files of the outer container by name ("index.json", "blobs/sha256/…"). */
interface Container {
  get(name: string): ByteSource | null;
  close(): void;
}

/** The entries of an uncompressed tar by name, from its headers alone (positioned reads). */
export function indexTar(src: ByteSource): Map<string, { offset: number; size: number }> {
  const out = new Map<string, { offset: number; size: number }>();
  const block = new Uint8Array(512);
  let pos = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (pos + 512 <= src.size) {
    if (src.readAt(block, pos) < 512) break;
    const h = parseTarHeader(block, `${src.path}: byte ${pos}`);
    if (!h) break;
    const data = pos + 512;
    if (data + h.size > src.size) throw new ImageError("truncated", `entry ${JSON.stringify(h.name)} ends after the end of the file`, src.path);
    const text = () => {
      const b = new Uint8Array(Math.min(h.size, 1 << 20));
      src.readAt(b, data);
      return new TextDecoder().decode(b);
    };
    if (h.typeflag === "L") longName = text().replace(/\0.*$/s, "");
    else if (h.typeflag === "x") paxPath = /\d+ path=([^\n]*)\n/.exec(text())?.[1];
    else if (h.typeflag !== "g") {
      const name = normalizeEntry(paxPath ?? longName ?? h.name, src.path).slice(1);
      longName = paxPath = undefined;
      if (h.typeflag === "0" || h.typeflag === "\0" || h.typeflag === "7") out.set(name, { offset: data, size: h.size });
    }
    pos = data + Math.ceil(h.size / 512) * 512;
  }
  return out;
}

async function openContainer(path: string): Promise<Container> {
  const st = statSync(path);
  if (st.isDirectory()) {
    const dir = new DirTree(path, `OCI layout ${path}`);
    const opened: { close(): void }[] = [];
    return {
      get(name) {
        if (!dir.stat(`/${name}`)) return null;
        const f = dir.open(`/${name}`);
        opened.push(f);
        return f;
      },
      close() {
        for (const f of opened) f.close();
      },
    };
  }
  let src = new FileSource(path);
  const head = new Uint8Array(Math.min(512, src.size));
  src.readAt(head, 0);
  const kind = compressionOf(head);
  let tmp: { dir: string; remove: () => void } | undefined;
  if (kind !== "none") {
    tmp = tempDir("oci");
    const file = join(tmp.dir, "image.tar");
    const fd = openSync(file, "w", 0o600);
    try {
      for await (const c of decompress(sourceChunks(src), kind, path)) writeSync(fd, c);
    } catch (e) {
      src.close();
      tmp.remove();
      throw e;
    } finally {
      closeSync(fd);
    }
    src.close();
    src = new FileSource(file);
  }
  const index = indexTar(src);
  return {
    get(name) {
      const e = index.get(name);
      return e ? new SliceSource(src, e.offset, e.size, `${path}: ${name}`) : null;
    },
    close() {
      src.close();
      tmp?.remove();
    },
  };
}

function json(c: Container, name: string, image: string): any {
  const src = c.get(name);
  if (!src) throw new ImageError("format", `${name} is named by the manifest but not in the image`, image);
  if (src.size > 16 * 1024 * 1024) throw new ImageError("limit", `${name} has ${src.size} bytes, too large for a manifest`, image);
  const b = new Uint8Array(src.size);
  src.readAt(b, 0);
  try {
    return JSON.parse(new TextDecoder().decode(b));
  } catch (e) {
    throw new ImageError("format", `${name} is not JSON: ${(e as Error).message}`, image);
  }
}

const blobName = (digest: unknown, image: string): string => {
  const m = /^([a-z0-9]+):([a-f0-9]{32,128})$/.exec(String(digest));
  if (!m) throw new ImageError("format", `bad digest ${JSON.stringify(digest)}`, image);
  return `blobs/${m[1]}/${m[2]}`;
};

/** The layer files of the image, bottom first. */
export function layerNames(c: Container, image: string): string[] {
  if (c.get("index.json")) {
    let doc = json(c, "index.json", image);
    for (let depth = 0; Array.isArray(doc?.manifests); depth++) {
      if (depth > 4 || !doc.manifests.length) throw new ImageError("format", "the image index names no manifest", image);
      const pick = doc.manifests.find((m: any) => m?.platform?.os === "linux" && m?.platform?.architecture === "amd64") ?? doc.manifests[0];
      doc = json(c, blobName(pick.digest, image), image);
    }
    if (!Array.isArray(doc?.layers)) throw new ImageError("format", "the manifest has no layers", image);
    return doc.layers.map((l: any) => blobName(l.digest, image));
  }
  if (c.get("manifest.json")) {
    const doc = json(c, "manifest.json", image);
    const layers = Array.isArray(doc) ? doc[0]?.Layers : undefined;
    if (!Array.isArray(layers)) throw new ImageError("format", "manifest.json names no Layers", image);
    return layers.map((l: unknown) => normalizeEntry(String(l), image).slice(1));
  }
  throw new ImageError("format", "neither index.json (OCI image layout) nor manifest.json (docker save) at the top", image);
}

function found(tree: MemTree): boolean {
  const isFile = (p: string) => {
    const r = tree.resolve(p, true);
    const n = r ? tree.node(r) : undefined;
    return n !== undefined && (n.entry.type === "file" || n.hardlink !== undefined);
  };
  const db = RPMDB_DIRS.some((d) => DB_FILES.some((f) => isFile(`${d}/${f}`)));
  return db && OS_RELEASE.some(isFile);
}

export interface OciResult {
  tree: MemTree;
  /** Layers in the image and how many were read (from the top). */
  layers: number;
  layersRead: number;
}

/** Opens an OCI layout (directory or tar) or a docker-save tar: the merged tree of what the loader needs. */
export async function openOci(path: string, limits: TarLimits = {}): Promise<OciResult> {
  const c = await openContainer(path);
  const tree = new MemTree(`oci ${path}`, async () => c.close());
  try {
    const names = layerNames(c, path);
    const lim = limitsOf(limits);
    const total = { bytes: 0 };
    const hidden = new Set<string>();
    const opaque = new Set<string>();
    let read = 0;
    for (let li = names.length - 1; li >= 0; li--) {
      const layer = c.get(names[li]);
      if (!layer) throw new ImageError("format", `layer ${names[li]} is named by the manifest but not in the image`, path);
      read++;
      const head = new Uint8Array(Math.min(512, layer.size));
      layer.readAt(head, 0);
      const newHidden: string[] = [];
      const newOpaque: string[] = [];
      const isHidden = (p: string): boolean => {
        for (let a = p; ; a = dirname(a)) {
          if (hidden.has(a)) return true;
          if (a !== p) {
            if (opaque.has(a)) return true;
            const n = tree.node(a);
            if (n && n.layer !== undefined && n.layer > li && n.entry.type !== "dir") return true;
          }
          if (a === "/") return false;
        }
      };
      for await (const t of tarEntries(decompress(sourceChunks(layer), compressionOf(head), layer.path), layer.path)) {
        const base = basename(t.path);
        if (base === ".wh..wh..opq") newOpaque.push(dirname(t.path));
        else if (base.startsWith(".wh.")) newHidden.push(join(dirname(t.path), base.slice(4)));
        else if (isHidden(t.path)) continue;
        else if (tree.has(t.path) && tree.node(t.path)!.layer !== li) continue;
        else await keepEntry(tree, t, wantedFile, lim, total, layer.path, li);
      }
      for (const h of newHidden) hidden.add(h);
      for (const o of newOpaque) opaque.add(o);
      if (found(tree)) break;
    }
    return { tree, layers: names.length, layersRead: read };
  } catch (e) {
    await tree.close();
    throw e;
  }
}

/** Whether a directory or uncompressed tar looks like an OCI layout or a docker-save archive. */
export function isOciLayout(src: ByteSource | string): boolean {
  if (typeof src === "string") {
    try {
      return statSync(join(src, "index.json")).isFile() || statSync(join(src, "manifest.json")).isFile();
    } catch {
      return false;
    }
  }
  try {
    const idx = indexTar(src);
    return idx.has("index.json") || idx.has("manifest.json") || idx.has("oci-layout");
  } catch {
    return false;
  }
}

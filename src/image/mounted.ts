/**
 * Openers that mount with a spawned FUSE tool, as the reference did: fuseiso (ISO9660),
 * squashfuse (squashfs) and guestmount (raw and QCOW2 disks, libguestfs). Each spawns its tool with
 * an argument array and a timeout, waits until the mount is visible, and returns a DirTree of the
 * mount point whose close() unmounts (`fusermount -u`, lazily when busy) and removes the directory.
 * A failure (tool missing, non-zero exit, timeout) is an ImageError naming the tool, the image and
 * the tool's stderr; nothing stays mounted. The exit hook of cleanup.ts unmounts what a signal
 * interrupted.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmdirSync } from "node:fs";
import { DirTree } from "./dir.ts";
import { ImageError } from "./errors.ts";
import { fusermount, lazyUnmount, onCleanup, tempDir, which } from "./cleanup.ts";

export interface MountOptions {
  /** How long the tool may take to mount (default 30 s). */
  timeoutMs?: number;
  /** Extra environment for the tool. */
  env?: Record<string, string>;
  /** Stops waiting for the tool (it is killed and nothing stays mounted). */
  signal?: AbortSignal;
}

const PACKAGE_OF: Record<string, string> = { fuseiso: "fuseiso", squashfuse: "squashfuse", guestmount: "libguestfs-tools", fusermount: "fuse3" };

/** The tool's path on PATH, or an ImageError naming the Debian package that has it. */
export function requireTool(tool: string, about: string): string {
  const p = which(tool);
  if (!p) throw new ImageError("tool", `${tool} is not installed (not found on PATH; Debian package ${PACKAGE_OF[tool] ?? tool})`, about);
  return p;
}

/** Whether `dir` is a mount point now (/proc/self/mountinfo, octal escapes decoded). */
export function isMounted(dir: string): boolean {
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return false;
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return text.split("\n").some((l) => unescape(l.split(" ")[4] ?? "") === dir);
}

async function runMount(tool: string, argv: string[], image: string, dir: string, opts: MountOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...opts.env } });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  const stop = () => proc.kill("SIGKILL");
  opts.signal?.addEventListener("abort", stop, { once: true });
  if (opts.signal?.aborted) stop();
  // the daemonised FUSE process keeps no pipe open: these end when the tool's parent exits
  const errText = new Response(proc.stderr).text();
  void new Response(proc.stdout).text().catch(() => "");
  const code = await proc.exited;
  clearTimeout(timer);
  opts.signal?.removeEventListener("abort", stop);
  // a child of the tool may still hold the pipe: its stderr is what arrived within a second
  const stderr = await Promise.race([errText.catch(() => ""), Bun.sleep(1000).then(() => "")]);
  const said = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-5).join(" | ")}` : " (nothing on stderr)";
  if (opts.signal?.aborted) throw new ImageError("tool", `${tool} stopped: the load was asked to stop`, image);
  if (timedOut) throw new ImageError("tool", `${tool} did not finish mounting within ${timeoutMs / 1000} s (killed)${said}`, image);
  if (code !== 0) throw new ImageError("tool", `${tool} failed with exit code ${code}${said}`, image);
  if (!isMounted(dir)) throw new ImageError("tool", `${tool} exited 0 but ${dir} is not mounted${said}`, image);
}

/** Mounts `image` with `tool` (argv built by `args(mountpoint)`) and returns the mounted tree. */
export async function fuseMount(tool: string, image: string, args: (dir: string) => string[], opts: MountOptions = {}): Promise<DirTree> {
  const exe = requireTool(tool, image);
  const fm = fusermount();
  if (!fm) throw new ImageError("tool", "fusermount is not installed (not found on PATH; Debian package fuse3)", image);
  const tmp = tempDir(tool);
  const dir = tmp.dir;
  const undoMount = onCleanup(() => {
    if (isMounted(dir)) lazyUnmount(dir);
  });
  try {
    await runMount(tool, [exe, ...args(dir)], image, dir, opts);
  } catch (e) {
    undoMount();
    tmp.remove();
    throw e;
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    const r = spawnSync(fm, ["-u", dir], { encoding: "utf8", timeout: 10_000 });
    if (r.status !== 0 && isMounted(dir)) lazyUnmount(dir);
    undoMount();
    try {
      rmdirSync(dir);
    } catch {
      // a lazily unmounted dir may still be busy for a moment
    }
    tmp.remove();
  };
  return new DirTree(dir, `${tool} ${image}`, close);
}

/** `fuseiso IMAGE DIR`. */
export function mountIso(image: string, opts?: MountOptions): Promise<DirTree> {
  return fuseMount("fuseiso", image, (dir) => [image, dir], opts);
}

/** `squashfuse IMAGE DIR` (IMAGE may be a file inside another mount). */
export function mountSquashfs(image: string, opts?: MountOptions): Promise<DirTree> {
  return fuseMount("squashfuse", image, (dir) => [image, dir], opts);
}

/** `guestmount -a IMAGE -i --ro DIR` with LIBGUESTFS_BACKEND=direct (needs KVM or a slow TCG appliance). */
export function mountGuestfs(image: string, opts?: MountOptions): Promise<DirTree> {
  return fuseMount("guestmount", image, (dir) => ["-a", image, "-i", "--ro", dir], { timeoutMs: 120_000, ...opts, env: { LIBGUESTFS_BACKEND: "direct", ...opts?.env } });
}

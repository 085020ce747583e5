/**
 * sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET through libc (bun:ffi),
 * because Bun and Node have no unix datagram sockets. Falls back to running `systemd-notify`
 * (which needs NotifyAccess=all) when libc cannot be loaded. Without $NOTIFY_SOCKET it does nothing.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: unknown, len: number, flags: number, addr: unknown, addrlen: number): number;
  close(fd: number): number;
}

let libc: Libc | null | undefined;
function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const lib = dlopen("libc.so.6", {
      socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
    });
    libc = {
      socket: (d, t, p) => lib.symbols.socket(d, t, p),
      sendto: (fd, buf, len, flags, addr, addrlen) => Number(lib.symbols.sendto(fd, buf as never, len, flags, addr as never, addrlen)),
      close: (fd) => lib.symbols.close(fd),
    };
  } catch {
    libc = null;
  }
  return libc;
}

/** struct sockaddr_un for a path or an abstract name ("@name"). */
export function sockaddrUn(socketPath: string): { addr: Uint8Array; len: number } {
  const abstract = socketPath.startsWith("@");
  const name = Buffer.from(abstract ? socketPath.slice(1) : socketPath);
  if (name.length > 107) throw new Error(`NOTIFY_SOCKET path too long: ${socketPath}`);
  const addr = new Uint8Array(110);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  if (abstract) addr.set(name, 3);
  else addr.set(name, 2);
  return { addr, len: 2 + (abstract ? 1 + name.length : name.length + 1) };
}

let fd = -1;

function sendViaLibc(c: Libc, socketPath: string, state: string): boolean {
  if (fd < 0) fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const { addr, len } = sockaddrUn(socketPath);
  const data = Buffer.from(state);
  return c.sendto(fd, ptr(data), data.length, 0, ptr(addr), len) === data.length;
}

function sendViaTool(state: string): boolean {
  const tool = Bun.which("systemd-notify");
  if (!tool) return false;
  const lines = state.split("\n").filter(Boolean);
  const r = Bun.spawnSync([tool, `--pid=${process.pid}`, ...lines], { stdout: "ignore", stderr: "ignore" });
  return r.exitCode === 0;
}

/** Sends e.g. "READY=1\nSTATUS=…"; true when it went out, false without $NOTIFY_SOCKET or on failure. */
export function sdNotify(state: string, env: Record<string, string | undefined> = process.env): boolean {
  const socketPath = env.NOTIFY_SOCKET;
  if (!socketPath) return false;
  try {
    const c = loadLibc();
    return c ? sendViaLibc(c, socketPath, state) : sendViaTool(state);
  } catch {
    return false;
  }
}

/** Half the systemd watchdog interval in ms, or undefined when no watchdog is asked for. */
export function watchdogIntervalMs(env: Record<string, string | undefined> = process.env): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
  return Math.max(100, Math.floor(usec / 2000));
}

/** Detached ASCII-armoured signature of repomd.xml (repomd.xml.asc) by spawning gpg. */
import { spawn } from "node:child_process";

/** Key ids, fingerprints, e-mail addresses or names gpg accepts for --local-user; no option injection. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9@._+<> -]*$/;

export function validKeyId(key: string): boolean {
  return KEY.test(key) && key.length <= 200;
}

export async function signDetached(file: string, key: string, timeoutMs = 120_000): Promise<string> {
  if (!validKeyId(key)) throw new Error(`--sign ${JSON.stringify(key)} is not a key id`);
  const out = `${file}.asc`;
  const args = ["--batch", "--yes", "--pinentry-mode", "loopback", "--armor", "--local-user", key, "--output", out, "--detach-sign", file];
  const child = spawn("gpg", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on("error", (e) => reject(new Error(`cannot run gpg: ${e.message}`)));
      child.on("close", (c, signal) => resolve(signal ? -1 : (c ?? -1)));
    });
    if (code !== 0) throw new Error(`gpg could not sign with key ${key} (exit ${code}): ${stderr.trim().split("\n").pop() ?? ""}`);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

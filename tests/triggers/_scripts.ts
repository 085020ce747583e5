/** Real trigger programs: small shell scripts written into a temp dir. */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function scriptDir(prefix: string): string {
  return mkdtempSync(join(process.env.ALTREPODB_TEST_SCRATCH!, `${prefix}-`));
}

/** Writes `body` as an executable /bin/sh script and returns its path. */
export function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** A trigger that keeps its stdin, environment and argv in <dir>/<name>.{in,env,args} (appending, one run per line in .count). */
export function recorder(dir: string, name: string): string {
  return script(
    dir,
    name,
    `out="${dir}/${name}"\ncat > "$out.in"\nenv | grep '^ALTREPODB_\\|^PATH=\\|PASSWORD' | sort > "$out.env"\nprintf '%s\\n' "$@" > "$out.args"\necho run >> "$out.count"`,
  );
}

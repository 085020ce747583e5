/** Version and the git revision the binary was built from (build.ts fills the constant). */
import pkg from "../package.json" with { type: "json" };

declare const __ALTREPODB_GIT_REV__: string | undefined;

export const VERSION: string = pkg.version;

let revision: string | undefined;

/** The built-in revision, or (run from source) what git says about the tree. */
export function gitRevision(): string {
  if (revision) return revision;
  if (typeof __ALTREPODB_GIT_REV__ !== "undefined") return (revision = __ALTREPODB_GIT_REV__);
  try {
    const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: import.meta.dir, stderr: "ignore" });
    revision = r.exitCode === 0 ? `${r.stdout.toString().trim()}-source` : "unknown";
  } catch {
    revision = "unknown";
  }
  return revision;
}

export const versionString = (): string => `altrepodb ${VERSION} (${gitRevision()})`;

/** A configuration problem: names the file, the line and the key, and what was expected. Exit code 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super([file ? `${file}${line ? `:${line}` : ""}` : "", key ?? "", message].filter(Boolean).join(": "));
  }
}

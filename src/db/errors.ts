/** Every database failure surfaces as a DbError: one line naming the cause and, where known, the fix. */
export class DbError extends Error {
  override name = "DbError";
  constructor(
    message: string,
    readonly hint?: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** ClickHouse puts "Code: NNN. DB::Exception: …" in front of its messages. */
export function clickhouseCode(message: string): number | undefined {
  const m = /Code: (\d+)\./.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** First line of a ClickHouse error, without the stack trace it may carry. */
export function firstLine(message: string): string {
  const line = message.split("\n").find((l) => l.trim() !== "") ?? message;
  return line.replace(/\s*Stack trace.*$/s, "").trim();
}

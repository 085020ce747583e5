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

/** A fix for the ClickHouse errors a user can cause. */
export function hintFor(code: number | undefined): string | undefined {
  switch (code) {
    case 60: // UNKNOWN_TABLE
    case 81: // UNKNOWN_DATABASE
    case 16: // NO_SUCH_COLUMN_IN_TABLE
      return "the schema is missing or old: run `altrepodb db init` (or `db migrate`)";
    case 516: // AUTHENTICATION_FAILED
      return "check database.http.user and the password (ALTREPODB_DB_PASSWORD or database.http.password_file)";
    case 241: // MEMORY_LIMIT_EXCEEDED
      return "the query needed more memory than the server allows";
    default:
      return undefined;
  }
}

/**
 * Pure text helpers for the migration runner: splitting a migration file into statements and
 * rewriting a statement for a cluster (`db init --cluster NAME`). No database access here.
 *
 * Conventions (documented in sql/README.md):
 * - a statement ends at a `;` outside string literals, quoted identifiers and comments
 *   (by convention the `;` is the last character of its line);
 * - comments are dropped, so every returned statement starts with its keyword;
 * - in cluster mode every DDL statement gets `ON CLUSTER <name>` after the object name, and
 *   every MergeTree-family engine becomes its Replicated variant with the ZooKeeper path
 *   '/clickhouse/tables/{shard}/{database}/<table>' and replica '{replica}' (server macros).
 */

/** Lexical regions of a SQL text that must not be looked into. */
type Region = { start: number; end: number; kind: "string" | "ident" | "comment" };

/** Finds string literals ('…'), quoted identifiers (`…`, "…") and comments (-- …, /* … *\/). */
function scan(sql: string): Region[] {
  const out: Region[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === "`" || c === '"') {
      const start = i++;
      while (i < n) {
        const d = sql[i];
        if (d === "\\") {
          i += 2;
          continue;
        }
        if (d === c) {
          if (sql[i + 1] === c) {
            i += 2; // doubled quote inside the literal
            continue;
          }
          break;
        }
        i++;
      }
      if (i >= n) throw new Error(`unterminated ${c === "'" ? "string literal" : "quoted identifier"} starting at offset ${start}`);
      i++;
      out.push({ start, end: i, kind: c === "'" ? "string" : "ident" });
    } else if (c === "-" && sql[i + 1] === "-") {
      const start = i;
      while (i < n && sql[i] !== "\n") i++;
      out.push({ start, end: i, kind: "comment" });
    } else if (c === "/" && sql[i + 1] === "*") {
      const start = i;
      const close = sql.indexOf("*/", i + 2);
      if (close < 0) throw new Error(`unterminated comment starting at offset ${start}`);
      i = close + 2;
      out.push({ start, end: i, kind: "comment" });
    } else {
      i++;
    }
  }
  return out;
}

/**
 * Splits a migration file into statements. Statements end at a top-level `;`; comments are
 * removed, surrounding white space is trimmed, and empty statements are dropped.
 */
export function splitStatements(sqlText: string): string[] {
  const statements: string[] = [];
  let current = "";
  const flush = () => {
    const s = current.trim();
    if (s) statements.push(s);
    current = "";
  };
  const plain = (seg: string) => {
    let k: number;
    while ((k = seg.indexOf(";")) >= 0) {
      current += seg.slice(0, k);
      flush();
      seg = seg.slice(k + 1);
    }
    current += seg;
  };
  let pos = 0;
  for (const r of scan(sqlText)) {
    plain(sqlText.slice(pos, r.start));
    // a line comment stops before its line break, which is kept; a block comment becomes a space
    if (r.kind !== "comment") current += sqlText.slice(r.start, r.end);
    else if (sqlText.startsWith("/*", r.start)) current += " ";
    pos = r.end;
  }
  plain(sqlText.slice(pos));
  flush();
  return statements;
}

/** The text with string literals and comments blanked out (same length), for keyword matching. */
function mask(sql: string): string {
  const chars = sql.split("");
  for (const r of scan(sql)) {
    if (r.kind === "ident") continue;
    for (let i = r.start; i < r.end; i++) if (chars[i] !== "\n") chars[i] = " ";
  }
  return chars.join("");
}

const IDENT = "(?:[A-Za-z_][A-Za-z0-9_$]*|`(?:[^`\\\\]|\\\\.|``)*`|\"(?:[^\"\\\\]|\\\\.|\"\")*\")";
const NAME = `${IDENT}(?:\\s*\\.\\s*${IDENT})?`;

/** Statement heads that take `ON CLUSTER` right after the object name. */
const HEADS: RegExp[] = [
  // CREATE [OR REPLACE] TABLE / VIEW / MATERIALIZED VIEW / DICTIONARY / FUNCTION / DATABASE [IF NOT EXISTS] name
  new RegExp(
    `^\\s*(?:CREATE|REPLACE)\\s+(?:OR\\s+REPLACE\\s+)?(?<kind>TABLE|VIEW|MATERIALIZED\\s+VIEW|DICTIONARY|FUNCTION|DATABASE)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(?<name>${NAME})`,
    "i",
  ),
  new RegExp(`^\\s*ALTER\\s+(?<kind>TABLE)\\s+(?<name>${NAME})`, "i"),
  new RegExp(`^\\s*DROP\\s+(?<kind>TABLE|VIEW|DICTIONARY|FUNCTION|DATABASE)\\s+(?:IF\\s+EXISTS\\s+)?(?<name>${NAME})`, "i"),
  new RegExp(`^\\s*TRUNCATE\\s+(?:TABLE\\s+)?(?:IF\\s+EXISTS\\s+)?(?<kind>)(?<name>${NAME})`, "i"),
  new RegExp(`^\\s*OPTIMIZE\\s+(?<kind>TABLE)\\s+(?<name>${NAME})`, "i"),
];

const MERGE_TREES = [
  "MergeTree",
  "ReplacingMergeTree",
  "SummingMergeTree",
  "AggregatingMergeTree",
  "CollapsingMergeTree",
  "VersionedCollapsingMergeTree",
  "GraphiteMergeTree",
  "CoalescingMergeTree",
];

function unquote(ident: string): string {
  const q = ident[0];
  if (q === "`" || q === '"') return ident.slice(1, -1).replaceAll(q + q, q).replace(/\\(.)/g, "$1");
  return ident;
}

/** The table part of a possibly database-qualified name, unquoted. */
function tableOf(name: string): string {
  const parts = name.match(new RegExp(IDENT, "g")) ?? [name];
  return unquote(parts[parts.length - 1]);
}

function clusterLiteral(cluster: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) return cluster;
  return "'" + cluster.replace(/[\\']/g, (c) => "\\" + c) + "'";
}

/** Index just after the parenthesised group that opens at `open` (masked text). */
function closeParen(masked: string, open: number): number {
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    const c = masked[i];
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  throw new Error("unbalanced parentheses in ENGINE clause");
}

/** The first `ENGINE [=] Name` at parenthesis depth 0 (not a column that happens to be named engine). */
function topLevelEngine(masked: string): RegExpExecArray | null {
  const re = /\bENGINE\s*(?:=\s*)?([A-Za-z_][A-Za-z0-9_]*)/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(masked))) {
    let depth = 0;
    for (let i = 0; i < m.index; i++) {
      if (masked[i] === "(") depth++;
      else if (masked[i] === ")") depth--;
    }
    if (depth === 0) return m;
  }
  return null;
}

/**
 * Rewrites one statement for a cluster: `ON CLUSTER <cluster>` after the object name, and
 * MergeTree-family engines → Replicated*('/clickhouse/tables/{shard}/{database}/<table>',
 * '{replica}'[, original args]). Buffer, Null, Memory, … engines are kept. Statements that are
 * not DDL (INSERT, SELECT, SET, …), TEMPORARY tables and statements that already carry
 * ON CLUSTER are returned unchanged. A CREATE TABLE without an explicit ENGINE is an error: it
 * would silently be created unreplicated (or copy another table's replication path).
 */
export function toClusterStatement(sql: string, cluster: string): string {
  if (!cluster) throw new Error("cluster name is empty");
  const masked = mask(sql);
  if (/^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMPORARY\b/i.test(masked)) return sql;
  let head: RegExpExecArray | null = null;
  for (const re of HEADS) {
    head = re.exec(masked);
    if (head) break;
  }
  if (!head) return sql;
  const nameEnd = head.index + head[0].length;
  const name = sql.slice(nameEnd - head.groups!.name.length, nameEnd);
  if (/^\s*ON\s+CLUSTER\b/i.test(masked.slice(nameEnd))) return sql;

  let out = sql.slice(0, nameEnd) + ` ON CLUSTER ${clusterLiteral(cluster)}` + sql.slice(nameEnd);
  const shift = out.length - sql.length;

  const kind = (head.groups!.kind ?? "").toUpperCase().replace(/\s+/g, " ");
  const isCreate = /^\s*(?:CREATE|REPLACE)\b/i.test(masked);
  if (!isCreate || (kind !== "TABLE" && kind !== "MATERIALIZED VIEW")) return out;

  // the ENGINE clause belongs to the definition, i.e. it precedes `AS SELECT` of a view
  const body = masked.slice(nameEnd);
  const asSelect = kind === "MATERIALIZED VIEW" ? body.search(/\bAS\s+(?:WITH|SELECT|\()/i) : -1;
  const scope = asSelect >= 0 ? body.slice(0, asSelect) : body;
  const engine = topLevelEngine(scope);
  if (!engine) {
    if (kind === "TABLE" && !/\bAS\s+(?:WITH|SELECT|\()/i.test(scope)) {
      throw new Error(`CREATE TABLE ${tableOf(name)} has no explicit ENGINE; cluster mode needs one`);
    }
    return out;
  }
  const engineName = engine[1];
  const family = MERGE_TREES.find((e) => e.toLowerCase() === engineName.toLowerCase());
  if (!family) return out;

  const start = nameEnd + engine.index; // position of ENGINE in the original text
  const nameStart = start + engine[0].length - engineName.length;
  let end = nameStart + engineName.length;
  let args = "";
  const rest = masked.slice(end);
  const ws = /^\s*/.exec(rest)![0].length;
  if (masked[end + ws] === "(") {
    const close = closeParen(masked, end + ws);
    args = sql.slice(end + ws + 1, close - 1).trim();
    end = close;
  }
  const path = `'/clickhouse/tables/{shard}/{database}/${tableOf(name).replace(/[\\']/g, (c) => "\\" + c)}'`;
  const replicated = `ENGINE = Replicated${family}(${path}, '{replica}'${args ? ", " + args : ""})`;
  out = out.slice(0, start + shift) + replicated + out.slice(end + shift);
  return out;
}

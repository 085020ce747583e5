/**
 * The database conformance suite: what every driver must do the same way. embedded.test.ts runs
 * it on libchdb, http.test.ts on a real clickhouse-server (Debian's 18.16 when installed).
 *
 * `caps.modern` is false for old servers (18.16): no Bool, Date32, DateTime64, Map, IPv4, no
 * insert_deduplication_token, and LowCardinality columns need allow_experimental_low_cardinality_type.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { BatchWriter, DbError, compileLayout, compileType, dedupToken, describeTable, insertRows, RowWriter, type Db, type InsertOptions } from "../../src/db";

export interface ConformanceCaps {
  /** A current ClickHouse (the embedded engine, or a server of 22.x or later). */
  modern: boolean;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Expects `p` to reject with a DbError and returns it. */
async function dbError(p: Promise<unknown>): Promise<DbError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DbError);
    const err = e as DbError;
    expect(err.message).not.toContain("\n");
    expect(err.message).not.toMatch(/Stack trace|e\.what\(\)/);
    return err;
  }
  throw new Error("expected a DbError, the call succeeded");
}

function encode(table: string, layout: { name: string; type: string }[], rows: Record<string, unknown>[]): { columns: readonly string[]; data: Uint8Array } {
  const enc = compileLayout(table, layout);
  const w = new RowWriter(16);
  for (const r of rows) enc.encode(w, r);
  return { columns: enc.columns, data: w.take() };
}

/** A Db that records the inserts it passes on. */
function recording(db: Db): { db: Db; inserts: { table: string; rows: number; bytes: number; opts?: InsertOptions }[] } {
  const inserts: { table: string; rows: number; bytes: number; opts?: InsertOptions }[] = [];
  const wrapped: Db = {
    kind: db.kind,
    database: db.database,
    query: (sql, opts) => db.query(sql, opts),
    queryRaw: (sql, format, opts) => db.queryRaw(sql, format, opts),
    command: (sql, opts) => db.command(sql, opts),
    insertRowBinary: async (table, columns, data, opts) => {
      inserts.push({ table, rows: -1, bytes: data.length, opts });
      await db.insertRowBinary(table, columns, data, opts);
    },
    close: () => db.close(),
  };
  return { db: wrapped, inserts };
}

async function count(db: Db, table: string): Promise<number> {
  const [r] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM ${table}`);
  return Number(r.n);
}

/**
 * Registers the suite. Opens one Db (`open` must give a fresh, empty database), which the
 * suite drops and closes after its tests.
 */
export async function runConformance(name: string, open: () => Promise<Db>, caps: ConformanceCaps): Promise<void> {
  const db = await open();
  afterAll(async () => {
    await db.command(`DROP DATABASE IF EXISTS \`${db.database}\``).catch(() => {});
    await db.close();
  });

  // src/db/layout.ts asks system.columns; see whether that works on this engine, for plain and
  // temporary tables (18.16 has no system.columns.position; temporary tables are not listed
  // under the current database). Tests that depend on it say so when skipped.
  await db.command("CREATE TABLE layout_probe (a UInt8) ENGINE = Memory");
  await db.command("CREATE TEMPORARY TABLE layout_probe_tmp (a UInt8)");
  const layoutTables = await describeTable(db, "layout_probe").then(
    () => true,
    () => false,
  );
  const layoutTemporary = await describeTable(db, "layout_probe_tmp").then(
    () => true,
    () => false,
  );
  const needsLayout = layoutTables ? "" : " [SKIPPED: src/db/layout.ts cannot describe tables on this server]";
  const needsLayoutTmp = layoutTemporary ? "" : " [SKIPPED: src/db/layout.ts cannot describe temporary tables]";
  /** DDL settings old servers need for LowCardinality. */
  const ddl = caps.modern ? undefined : { settings: { allow_experimental_low_cardinality_type: 1 } };

  describe(`db conformance: ${name}`, () => {
    test("kind and database", async () => {
      expect(db.kind).toBe(name.startsWith("http") ? "http" : "embedded");
      const [r] = await db.query<{ d: string }>("SELECT currentDatabase() AS d");
      expect(r.d).toBe(db.database);
    });

    describe("query", () => {
      test("integers: UInt8..UInt64 (2^64-1 as bigint), Int8..Int64 (negatives)", async () => {
        const [r] = await db.query(
          "SELECT toUInt8(255) AS u8, toUInt16(65535) AS u16, toUInt32(4294967295) AS u32, toUInt64('18446744073709551615') AS u64, " +
            "toInt8(-128) AS i8, toInt16(-32768) AS i16, toInt32(-2147483648) AS i32, toInt64('-9223372036854775808') AS i64, toInt64(-1) AS m1, " +
            "toUInt64(0) AS z64",
        );
        expect(r).toEqual({ u8: 255, u16: 65535, u32: 4294967295, u64: U64_MAX, i8: -128, i16: -32768, i32: -2147483648, i64: I64_MIN, m1: -1n, z64: 0n });
      });

      test("strings (UTF-8), arrays, FixedString via hex(), Enum8, Nullable, DateTime, Float", async () => {
        const [r] = await db.query(
          "SELECT 'héllo ✓ мир' AS s, '' AS e, [1, 2, 3] AS a, [toUInt64('18446744073709551615'), toUInt64(1)] AS a64, emptyArrayUInt8() AS ea, " +
            "[['a'], [], ['b', 'c']] AS aa, hex(toFixedString('ab', 4)) AS fs, CAST('b' AS Enum8('a' = 1, 'b' = 2)) AS e8, " +
            "CAST(NULL AS Nullable(UInt8)) AS n, toNullable(toUInt64(7)) AS n64, [NULL, toNullable(toInt64(-2))] AS an, " +
            "toDateTime('2020-01-02 03:04:05', 'UTC') AS dt, toUnixTimestamp(toDateTime('2020-01-02 03:04:05', 'UTC')) AS ts, toDate('2020-01-02') AS d, " +
            "toFloat64(1.5) AS f, toFloat32(-0.25) AS f32",
        );
        expect(r).toEqual({
          s: "héllo ✓ мир",
          e: "",
          a: [1, 2, 3],
          a64: [U64_MAX, 1n],
          ea: [],
          aa: [["a"], [], ["b", "c"]],
          fs: "61620000",
          e8: "b",
          n: null,
          n64: 7n,
          an: [null, -2n],
          dt: "2020-01-02 03:04:05",
          ts: 1577934245,
          d: "2020-01-02",
          f: 1.5,
          f32: -0.25,
        });
      });

      test("LowCardinality and UUID", async () => {
        const [r] = await db.query("SELECT toLowCardinality('x') AS lc, toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') AS u, toString(toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0')) AS us");
        expect(r).toEqual({ lc: "x", u: "61f0c404-5cb3-11e7-907b-a6006ad3dba0", us: "61f0c404-5cb3-11e7-907b-a6006ad3dba0" });
      });

      test("many rows, empty results, column order kept", async () => {
        const rows = await db.query<{ n: bigint; z: number; a: number }>("SELECT number AS n, 1 AS z, 2 AS a FROM system.numbers LIMIT 50000");
        expect(rows.length).toBe(50000);
        expect(rows[49999].n).toBe(49999n);
        expect(Object.keys(rows[0])).toEqual(["n", "z", "a"]);
        expect(await db.query("SELECT 1 AS x FROM system.one WHERE 0")).toEqual([]);
      });

      test("per-call settings apply to that call only; SET persists across calls", async () => {
        const setting = (opts?: { settings: Record<string, number> }) =>
          db.query<{ value: string }>("SELECT value FROM system.settings WHERE name = 'max_result_rows'", opts).then((r) => r[0].value);
        expect(await setting({ settings: { max_result_rows: 77 } })).toBe("77");
        expect(await setting()).toBe("0");
        await db.command("SET max_result_rows = 55");
        expect(await setting()).toBe("55");
        await db.command("SET max_result_rows = 0");
        expect(await setting()).toBe("0");
      });
    });

    describe("queryRaw", () => {
      const raw = async (sql: string, format: string) => Buffer.from(await db.queryRaw(sql, format)).toString("utf8");
      test("TSV, TabSeparatedWithNames, CSV, JSONEachRow", async () => {
        expect(await raw("SELECT 1 AS a, 'x\ty' AS b", "TSV")).toBe("1\tx\\ty\n");
        expect(await raw("SELECT 1 AS a, 'x' AS b", "TabSeparatedWithNames")).toBe("a\tb\n1\tx\n");
        expect(await raw("SELECT 1 AS a, 'x' AS b", "CSV")).toBe('1,"x"\n');
        expect(await raw("SELECT 1 AS a, 'x' AS b, toUInt64(5) AS c FROM system.numbers LIMIT 2", "JSONEachRow")).toBe('{"a":1,"b":"x","c":"5"}\n{"a":1,"b":"x","c":"5"}\n');
      });

      test("binary output is exact (RowBinary with 0x00, 0x0A, 0xFF)", async () => {
        const out = await db.queryRaw("SELECT unhex('000AFF0D') AS s, toUInt32(258) AS n", "RowBinary");
        expect([...out]).toEqual([4, 0x00, 0x0a, 0xff, 0x0d, 2, 1, 0, 0]);
      });

      test("a FORMAT clause of the statement wins", async () => {
        expect(await raw("SELECT 1 AS a, 'x' AS b FORMAT CSV", "TSV")).toBe('1,"x"\n');
      });

      test("an empty result is empty", async () => {
        expect((await db.queryRaw("SELECT 1 FROM system.one WHERE 0", "TSV")).length).toBe(0);
      });
    });

    describe("command", () => {
      test("DDL and INSERT … SELECT", async () => {
        await db.command("CREATE TABLE cmd_t (id UInt32, s String) ENGINE = MergeTree ORDER BY id");
        await db.command("INSERT INTO cmd_t SELECT toUInt32(number), toString(number) FROM system.numbers LIMIT 10");
        await db.command("ALTER TABLE cmd_t ADD COLUMN x UInt8 DEFAULT 7");
        expect(await db.query("SELECT sum(id) AS s, max(x) AS x FROM cmd_t")).toEqual([{ s: 45n, x: 7 }]);
        await db.command("RENAME TABLE cmd_t TO cmd_t2");
        expect(await count(db, "cmd_t2")).toBe(10);
        await db.command("DROP TABLE cmd_t2");
        const gone = await dbError(db.query("SELECT * FROM cmd_t2"));
        expect(gone.code).toBe(60);
      });

      test("a trailing semicolon is fine", async () => {
        await db.command("CREATE TABLE semi_t (a UInt8) ENGINE = Memory;");
        expect(await db.query("SELECT count() AS n FROM semi_t;")).toEqual([{ n: 0n }]);
      });
    });

    describe("errors", () => {
      test("syntax error: DbError with ClickHouse's code and message, one line", async () => {
        const e = await dbError(db.query("SELEC 1"));
        expect(e.code).toBe(62);
        expect(e.message).toMatch(/^Code: 62\. DB::Exception: Syntax error/);
      });

      test("unknown table names the table", async () => {
        const e = await dbError(db.query("SELECT * FROM no_such_table"));
        expect(e.code).toBe(60);
        expect(e.message).toMatch(/^Code: 60\. /);
        expect(e.message).toContain("no_such_table");
        const c = await dbError(db.command("INSERT INTO no_such_table VALUES (1)"));
        expect(c.code).toBe(60);
      });

      test("an error after rows were produced is still an error", async () => {
        const e = await dbError(db.query("SELECT number, throwIf(number = 150000) AS t FROM system.numbers LIMIT 200000", { settings: { max_block_size: 1000 } }));
        expect(e.code).toBe(395);
        const r = await dbError(db.queryRaw("SELECT number, throwIf(number = 150000) AS t FROM system.numbers LIMIT 200000", "TSV", { settings: { max_block_size: 1000 } }));
        expect(r.code).toBe(395);
      });

      test("the connection survives errors", async () => {
        await dbError(db.query("SELECT * FROM no_such_table"));
        expect(await db.query("SELECT 1 AS x")).toEqual([{ x: 1 }]);
      });

      test("insert errors: unknown table, truncated data, wrong column", async () => {
        await db.command("CREATE TABLE ins_err (a UInt32, s String) ENGINE = Memory");
        expect((await dbError(db.insertRowBinary("no_such_table", ["a"], new Uint8Array([1])))).code).toBe(60);
        const trunc = await dbError(db.insertRowBinary("ins_err", ["a", "s"], new Uint8Array([1, 0, 0, 0, 5, 65])));
        expect(trunc.code).toBe(33);
        expect(trunc.message).toMatch(/^Code: 33\. /);
        const col = await dbError(db.insertRowBinary("ins_err", ["a", "nope"], new Uint8Array([1, 0, 0, 0, 0])));
        expect(col.code).toBeGreaterThan(0);
        expect(await count(db, "ins_err")).toBe(0);
      });
    });

    describe("RowBinary inserts", () => {
      const common = [
        { name: "id", type: "UInt8" },
        { name: "u8", type: "UInt8" },
        { name: "u16", type: "UInt16" },
        { name: "u32", type: "UInt32" },
        { name: "u64", type: "UInt64" },
        { name: "i8", type: "Int8" },
        { name: "i16", type: "Int16" },
        { name: "i32", type: "Int32" },
        { name: "i64", type: "Int64" },
        { name: "f32", type: "Float32" },
        { name: "f64", type: "Float64" },
        { name: "s", type: "String" },
        { name: "fs", type: "FixedString(4)" },
        { name: "d", type: "Date" },
        { name: "dt", type: "DateTime('UTC')" },
        { name: "e8", type: "Enum8('a' = 1, 'b' = 2, 'neg' = -1)" },
        { name: "e16", type: "Enum16('x' = 1000, 'y' = -1000)" },
        { name: "au", type: "Array(UInt32)" },
        { name: "as", type: "Array(String)" },
        { name: "aa", type: "Array(Array(UInt8))" },
        { name: "an", type: "Array(Nullable(Int32))" },
        { name: "a64", type: "Array(UInt64)" },
        { name: "ns", type: "Nullable(String)" },
        { name: "nu", type: "Nullable(UInt64)" },
        { name: "t", type: "Tuple(UInt8, String)" },
        { name: "lc", type: "LowCardinality(String)" },
        { name: "uuid", type: "UUID" },
      ];
      const modern = [
        { name: "b", type: "Bool" },
        { name: "dt64", type: "DateTime64(3, 'UTC')" },
        { name: "d32", type: "Date32" },
        { name: "m", type: "Map(String, UInt64)" },
        { name: "ip", type: "IPv4" },
        { name: "lcn", type: "LowCardinality(Nullable(String))" },
      ];
      const layout = caps.modern ? [...common, ...modern] : common;
      const bytes = new Uint8Array([0x00, 0x0a, 0xff, 0x0d, 0x09, 0x5c, 0x27]);
      const rows: Record<string, unknown>[] = [
        {
          id: 0, u8: 0, u16: 0, u32: 0, u64: 0n, i8: -128, i16: -32768, i32: -2147483648, i64: I64_MIN, f32: -1.5, f64: -1e308,
          s: "", fs: "", d: 0, dt: 0, e8: "neg", e16: "y", au: [], as: [], aa: [], an: [], a64: [], ns: null, nu: null, t: [0, ""], lc: "",
          uuid: "00000000-0000-0000-0000-000000000000",
          b: false, dt64: 0, d32: new Date("1950-06-15T00:00:00Z"), m: {}, ip: "0.0.0.0", lcn: null,
        },
        {
          id: 1, u8: 255, u16: 65535, u32: 4294967295, u64: U64_MAX, i8: 127, i16: 32767, i32: 2147483647, i64: I64_MAX, f32: 3.5, f64: 1.7976931348623157e308,
          s: "héllo ✓ мир", fs: "abcd", d: new Date("2100-12-31T00:00:00Z"), dt: 4294967295, e8: "b", e16: "x",
          au: [0, 4294967295], as: ["", "x", "юникод"], aa: [[], [1, 2], [255]], an: [null, -5, 2147483647], a64: [U64_MAX, 0n, 1],
          ns: "ok", nu: U64_MAX, t: [255, "tuple"], lc: "low", uuid: "61f0c404-5cb3-11e7-907b-a6006ad3dba0",
          b: true, dt64: 1700000000.123, d32: new Date("2200-01-01T00:00:00Z"), m: { a: 1n, b: U64_MAX }, ip: "255.255.255.255", lcn: "x",
        },
        {
          id: 2, u8: 10, u16: 10, u32: 10, u64: 10, i8: -1, i16: -1, i32: -1, i64: -1, f32: 0, f64: 0.1,
          s: bytes, fs: new Uint8Array([0x00, 0x0a, 0xff]), d: 86400, dt: new Date("2020-01-02T03:04:05Z"), e8: 1, e16: 1000,
          au: [1], as: [bytes, ""], aa: [[0]], an: [null], a64: [2n ** 53n + 1n], ns: bytes, nu: 0, t: [1, bytes], lc: bytes,
          uuid: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
          b: 1, dt64: new Date("2020-01-02T03:04:05.678Z"), d32: 0, m: new Map([["k", 5]]), ip: "10.0.0.1", lcn: "",
        },
      ];
      const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();
      const bytesHex = hex(bytes);
      const expected = [
        {
          id: 0, u8: 0, u16: 0, u32: 0, u64: 0n, i8: -128, i16: -32768, i32: -2147483648, i64: I64_MIN, f32: -1.5, f64: -1e308,
          // 18.16 shows day 0 as 0000-00-00
          s: "", fs: "00000000", d: caps.modern ? "1970-01-01" : "0000-00-00", dt: 0, e8: "neg", e16: "y", au: [], as: [], aa: [], an: [], a64: [], ns: null, nu: null, t: [0, ""], lc: "",
          uuid: "00000000-0000-0000-0000-000000000000",
          b: false, dt64: "0", d32: "1950-06-15", m: [], ip: "0.0.0.0", lcn: null,
        },
        {
          id: 1, u8: 255, u16: 65535, u32: 4294967295, u64: U64_MAX, i8: 127, i16: 32767, i32: 2147483647, i64: I64_MAX, f32: 3.5, f64: 1.7976931348623157e308,
          s: hex(new TextEncoder().encode("héllo ✓ мир")), fs: "61626364", d: "2100-12-31", dt: 4294967295, e8: "b", e16: "x",
          au: [0, 4294967295], as: ["", "78", hex(new TextEncoder().encode("юникод"))], aa: [[], [1, 2], [255]], an: [null, -5, 2147483647], a64: [U64_MAX, 0n, 1n],
          ns: "6F6B", nu: U64_MAX, t: [255, "7475706C65"], lc: "6C6F77", uuid: "61f0c404-5cb3-11e7-907b-a6006ad3dba0",
          b: true, dt64: "1700000000123", d32: "2200-01-01", m: [["a", 1n], ["b", U64_MAX]], ip: "255.255.255.255", lcn: "x",
        },
        {
          id: 2, u8: 10, u16: 10, u32: 10, u64: 10n, i8: -1, i16: -1, i32: -1, i64: -1n, f32: 0, f64: 0.1,
          s: bytesHex, fs: "000AFF00", d: "1970-01-02", dt: 1577934245, e8: "a", e16: "x",
          au: [1], as: [bytesHex, ""], aa: [[0]], an: [null], a64: [2n ** 53n + 1n], ns: bytesHex, nu: 0n, t: [1, bytesHex], lc: bytesHex,
          uuid: "ffffffff-ffff-ffff-ffff-ffffffffffff",
          b: true, dt64: "1577934245678", d32: "1970-01-01", m: [["k", 5n]], ip: "10.0.0.1", lcn: "",
        },
      ];
      const select = [
        "id, u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, hex(s) AS s, hex(fs) AS fs, d, toUnixTimestamp(dt) AS dt, e8, e16",
        "au, arrayMap(x -> hex(x), as) AS as, aa, an, a64, if(isNull(ns), NULL, hex(assumeNotNull(ns))) AS ns, nu, (t.1, hex(t.2)) AS t",
        "hex(toString(lc)) AS lc, toString(uuid) AS uuid",
        ...(caps.modern ? ["b, toString(toUnixTimestamp64Milli(dt64)) AS dt64, d32, arraySort(arrayZip(mapKeys(m), mapValues(m))) AS m, toString(ip) AS ip, lcn"] : []),
      ].join(", ");

      test(`every type the encoder supports round-trips${caps.modern ? "" : " (18.16 types)"}`, async () => {
        const cols = layout.map((c) => `${c.name} ${c.type}`).join(", ");
        await db.command(`CREATE TABLE types_t (${cols}) ENGINE = MergeTree ORDER BY id`, ddl);
        const { columns, data } = encode("types_t", layout, rows);
        await db.insertRowBinary("types_t", columns, data);
        const got = await db.query(`SELECT ${select} FROM types_t ORDER BY id`);
        const want = expected.map((e) => Object.fromEntries(layout.map((c) => [c.name, e[c.name as keyof typeof e]])));
        expect(got).toEqual(want);
      });

      test("String and FixedString keep 0x00, 0x0A, 0xFF and every other byte", async () => {
        await db.command("CREATE TABLE bytes_t (id UInt16, s String, fs FixedString(3)) ENGINE = Memory");
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        const rows = Array.from({ length: 256 }, (_, i) => ({ id: i, s: all.subarray(0, i), fs: Uint8Array.of(i, 0x0a, 255 - i) }));
        const { columns, data } = encode("bytes_t", [{ name: "id", type: "UInt16" }, { name: "s", type: "String" }, { name: "fs", type: "FixedString(3)" }], rows);
        await db.insertRowBinary("bytes_t", columns, data);
        const got = await db.query<{ id: number; s: string; fs: string }>("SELECT id, hex(s) AS s, hex(fs) AS fs FROM bytes_t ORDER BY id");
        expect(got.length).toBe(256);
        for (const r of got) {
          expect(r.s).toBe(hex(all.subarray(0, r.id)));
          expect(r.fs).toBe(hex(Uint8Array.of(r.id, 0x0a, 255 - r.id)));
        }
      });

      test("a large insert (several MiB) arrives whole", async () => {
        await db.command("CREATE TABLE big_t (id UInt32, s String) ENGINE = MergeTree ORDER BY id");
        const n = 150_000;
        const w = new RowWriter();
        const enc = compileLayout("big_t", [{ name: "id", type: "UInt32" }, { name: "s", type: "String" }]);
        for (let i = 0; i < n; i++) enc.encode(w, { id: i, s: `row ${i} ${"x".repeat(i % 40)}\n\0` });
        const data = w.take();
        expect(data.length).toBeGreaterThan(4 << 20);
        await db.insertRowBinary("big_t", enc.columns, data);
        let len = 0;
        for (let i = 0; i < n; i++) len += `row ${i} ${"x".repeat(i % 40)}\n\0`.length;
        const [r] = await db.query<{ n: bigint; total: bigint; len: bigint }>("SELECT count() AS n, sum(id) AS total, sum(length(s)) AS len FROM big_t");
        expect(r).toEqual({ n: BigInt(n), total: BigInt((n * (n - 1)) / 2), len: BigInt(len) });
      });

      test("empty data sends nothing", async () => {
        await db.insertRowBinary("no_such_table_either", ["a"], new Uint8Array(0));
      });

      test("DEFAULT and MATERIALIZED columns are filled by the server", async () => {
        await db.command("CREATE TABLE defaults_t (a UInt32, b UInt32 DEFAULT a * 2, c UInt32 MATERIALIZED a + 1) ENGINE = Memory");
        const { columns, data } = encode("defaults_t", [{ name: "a", type: "UInt32" }], [{ a: 5 }]);
        await db.insertRowBinary("defaults_t", columns, data);
        expect(await db.query("SELECT a, b, c FROM defaults_t")).toEqual([{ a: 5, b: 10, c: 6 }]);
      });
    });

    describe("temporary tables", () => {
      test("CREATE TEMPORARY TABLE, insert, select across calls", async () => {
        await db.command("CREATE TEMPORARY TABLE tmp_t (id UInt32, s String)");
        const { columns, data } = encode("tmp_t", [{ name: "id", type: "UInt32" }, { name: "s", type: "String" }], [
          { id: 1, s: "a" },
          { id: 2, s: "b\0\n" },
        ]);
        await db.insertRowBinary("tmp_t", columns, data);
        await db.command("INSERT INTO tmp_t SELECT toUInt32(number + 10), 'c' FROM system.numbers LIMIT 3");
        expect(await db.query("SELECT id, hex(s) AS s FROM tmp_t ORDER BY id LIMIT 2")).toEqual([
          { id: 1, s: "61" },
          { id: 2, s: "62000A" },
        ]);
        expect(await count(db, "tmp_t")).toBe(5);
        // a temporary table joins plain ones
        await db.command("CREATE TABLE tmp_join (id UInt32) ENGINE = Memory");
        await db.command("INSERT INTO tmp_join VALUES (2), (11), (99)");
        expect(await db.query("SELECT count() AS n FROM tmp_join WHERE id IN (SELECT id FROM tmp_t)")).toEqual([{ n: 2n }]);
        await db.command("DROP TEMPORARY TABLE tmp_t");
        expect((await dbError(db.query("SELECT * FROM tmp_t"))).code).toBe(60);
      });

      test("concurrent calls on one Db (temporary table, queries and inserts) all succeed", async () => {
        await db.command("CREATE TEMPORARY TABLE tmp_c (id UInt32)");
        const enc = compileLayout("tmp_c", [{ name: "id", type: "UInt32" }]);
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < 20; i++) {
          const w = new RowWriter(8);
          enc.encode(w, { id: i });
          calls.push(db.insertRowBinary("tmp_c", enc.columns, w.take()));
          calls.push(db.query("SELECT count() AS n FROM tmp_c"));
        }
        await Promise.all(calls);
        expect(await db.query("SELECT count() AS n, sum(id) AS s FROM tmp_c")).toEqual([{ n: 20n, s: 190n }]);
      });

      test("another Db does not see them", async () => {
        await db.command("CREATE TEMPORARY TABLE tmp_own (id UInt32)");
        const other = await open();
        try {
          expect((await dbError(other.query("SELECT * FROM tmp_own"))).code).toBe(60);
        } finally {
          await other.command(`DROP DATABASE IF EXISTS \`${other.database}\``).catch(() => {});
          await other.close();
        }
      });

      test.skipIf(!layoutTemporary)(`insertRows into a temporary table${needsLayoutTmp}`, async () => {
        await db.command("CREATE TEMPORARY TABLE tmp_rows (id UInt32, s String)");
        expect(await insertRows(db, "tmp_rows", [{ id: 1, s: "x" }, { id: 2, s: "y" }])).toBe(2);
        expect(await count(db, "tmp_rows")).toBe(2);
      });
    });

    describe("encoder errors", () => {
      test("a missing column value names Table.column", () => {
        const enc = compileLayout("Packages", [{ name: "pkg_name", type: "String" }, { name: "pkg_epoch", type: "UInt32" }]);
        expect(() => enc.encode(new RowWriter(), { pkg_name: "x" })).toThrow("column Packages.pkg_epoch: value missing");
      });

      test("out-of-range integers", () => {
        const bad: [string, unknown][] = [
          ["UInt8", 256], ["UInt8", -1], ["Int8", 128], ["Int8", -129], ["UInt16", 65536], ["Int16", -32769],
          ["UInt32", 2 ** 32], ["Int32", 2 ** 31], ["UInt64", -1], ["UInt64", 1n << 64n], ["UInt64", -1n], ["UInt64", 2 ** 53 + 2],
          ["Int64", 1n << 63n], ["Int64", I64_MIN - 1n], ["UInt32", 1.5], ["UInt32", "5"], ["UInt32", null], ["DateTime", -1], ["DateTime", 2 ** 32],
        ];
        for (const [type, v] of bad) {
          const enc = compileLayout("T", [{ name: "c", type }]);
          expect(() => enc.encode(new RowWriter(), { c: v })).toThrow(`column T.c (${type}): cannot encode`);
        }
      });

      test("wrong enum values, too long FixedString, wrong shapes", () => {
        const cases: [string, unknown][] = [
          ["Enum8('a' = 1, 'b' = 2)", "c"], ["Enum8('a' = 1, 'b' = 2)", 3], ["Enum16('x' = 1000)", "a"],
          ["FixedString(2)", "abc"], ["Array(UInt8)", "x"], ["Tuple(UInt8, String)", [1]], ["UUID", "not-a-uuid"], ["String", 5],
          ["Nullable(UInt8)", undefined],
        ];
        for (const [type, v] of cases) {
          const enc = compileLayout("T", [{ name: "c", type }]);
          expect(() => enc.encode(new RowWriter(), { c: v })).toThrow(/column T\.c/);
        }
      });

      test("unsupported types are refused when compiling", () => {
        expect(() => compileType("Decimal(10, 2)")).toThrow("RowBinary: unsupported type Decimal(10, 2)");
      });
    });

    describe("BatchWriter and insertRows", () => {
      const setup = async (prefix: string) => {
        await db.command(`CREATE TABLE ${prefix}_a (id UInt32, s String) ENGINE = MergeTree ORDER BY id`);
        await db.command(`CREATE TABLE ${prefix}_b (id UInt32, tags Array(String), n Nullable(UInt64)) ENGINE = MergeTree ORDER BY id`);
      };

      test.skipIf(!layoutTables)(`describeTable reports columns in order with their kinds${needsLayout}`, async () => {
        await db.command("CREATE TABLE desc_t (a UInt32, b String DEFAULT 'x', c UInt32 MATERIALIZED a + 1, d Array(Nullable(String))) ENGINE = Memory");
        const cols = await describeTable(db, "desc_t");
        // 18.16 lists MATERIALIZED and ALIAS columns after the others; the plain ones keep their order
        expect(cols.filter((c) => c.defaultKind !== "MATERIALIZED")).toEqual([
          { name: "a", type: "UInt32", defaultKind: "" },
          { name: "b", type: "String", defaultKind: "DEFAULT" },
          { name: "d", type: "Array(Nullable(String))", defaultKind: "" },
        ]);
        expect(cols.find((c) => c.name === "c")).toEqual({ name: "c", type: "UInt32", defaultKind: "MATERIALIZED" });
        expect(cols.length).toBe(4);
      });

      test.skipIf(!layoutTables)(`flush by rows, backpressure, final flush, counts per table${needsLayout}`, async () => {
        await setup("bw_rows");
        const w = await BatchWriter.open(db, ["bw_rows_a", "bw_rows_b"], { maxRows: 3 });
        expect(w.add("bw_rows_a", { id: 1, s: "a" })).toBeUndefined();
        expect(w.add("bw_rows_a", { id: 2, s: "b" })).toBeUndefined();
        expect(w.add("bw_rows_b", { id: 1, tags: ["x"], n: null })).toBeUndefined();
        expect(w.pendingRows).toBe(3);
        const p = w.add("bw_rows_a", { id: 3, s: "c" });
        expect(p).toBeInstanceOf(Promise);
        await p;
        // the flush sent every table, not only the full one
        expect(w.pendingRows).toBe(0);
        expect(w.counts).toEqual({ bw_rows_a: 3, bw_rows_b: 1 });
        expect(await count(db, "bw_rows_a")).toBe(3);
        expect(await count(db, "bw_rows_b")).toBe(1);
        for (let i = 4; i <= 8; i++) await w.add("bw_rows_a", { id: i, s: String(i) });
        expect(await count(db, "bw_rows_a")).toBe(6);
        w.add("bw_rows_b", { id: 2, tags: [], n: U64_MAX });
        const counts = await w.close();
        expect(counts).toEqual({ bw_rows_a: 8, bw_rows_b: 2 });
        expect(await count(db, "bw_rows_a")).toBe(8);
        expect(await db.query("SELECT id, tags, n FROM bw_rows_b ORDER BY id")).toEqual([
          { id: 1, tags: ["x"], n: null },
          { id: 2, tags: [], n: U64_MAX },
        ]);
      });

      test.skipIf(!layoutTables)(`flush by bytes${needsLayout}`, async () => {
        await setup("bw_bytes");
        const w = await BatchWriter.open(db, ["bw_bytes_a"], { maxRows: 1_000_000, maxBytes: 100 });
        const s = "y".repeat(40); // 4 + 1 + 40 bytes a row
        expect(w.add("bw_bytes_a", { id: 1, s })).toBeUndefined();
        expect(w.add("bw_bytes_a", { id: 2, s })).toBeUndefined();
        const p = w.add("bw_bytes_a", { id: 3, s });
        expect(p).toBeInstanceOf(Promise);
        await p;
        expect(await count(db, "bw_bytes_a")).toBe(3);
        expect(await w.close()).toEqual({ bw_bytes_a: 3 });
      });

      test.skipIf(!layoutTables)(`tables flush in declaration order, each batch with its dedup token${needsLayout}`, async () => {
        await setup("bw_order");
        const rec = recording(db);
        const w = await BatchWriter.open(rec.db, ["bw_order_b", "bw_order_a"], { maxRows: 2 });
        w.add("bw_order_a", { id: 1, s: "a" });
        w.add("bw_order_b", { id: 1, tags: [], n: 1 });
        await w.add("bw_order_a", { id: 2, s: "b" });
        w.add("bw_order_a", { id: 3, s: "c" });
        await w.close();
        expect(rec.inserts.map((i) => i.table)).toEqual(["bw_order_b", "bw_order_a", "bw_order_a"]);
        for (const i of rec.inserts) expect(i.opts?.dedupToken).toMatch(new RegExp(`^[0-9a-f]{16}:${i.table}:[0-9a-f]{64}$`));
        // one writer, one salt: tokens differ only by table and data
        expect(new Set(rec.inserts.map((i) => i.opts?.dedupToken?.split(":")[0])).size).toBe(1);
        expect(w.counts).toEqual({ bw_order_b: 1, bw_order_a: 3 });
      });

      test.skipIf(!layoutTables)(`addEncoded, columnsOf and a flush with nothing pending${needsLayout}`, async () => {
        await setup("bw_enc");
        const w = await BatchWriter.open(db, [{ table: "bw_enc_a", columns: ["s", "id"] }]);
        expect(w.columnsOf("bw_enc_a")).toEqual(["s", "id"]);
        const { data } = encode("bw_enc_a", [{ name: "s", type: "String" }, { name: "id", type: "UInt32" }], [{ s: "p", id: 7 }, { s: "q", id: 8 }]);
        w.addEncoded("bw_enc_a", data, 2);
        await w.flush();
        await w.flush();
        expect(await w.close()).toEqual({ bw_enc_a: 2 });
        expect(await db.query("SELECT id, s FROM bw_enc_a ORDER BY id")).toEqual([{ id: 7, s: "p" }, { id: 8, s: "q" }]);
        expect(() => w.add("not_declared", {})).toThrow("not declared");
      });

      test.skipIf(!layoutTables)(`a row missing a value names Table.column; unknown tables are a DbError${needsLayout}`, async () => {
        await setup("bw_err");
        const w = await BatchWriter.open(db, ["bw_err_a"]);
        expect(() => w.add("bw_err_a", { id: 1 })).toThrow("column bw_err_a.s: value missing");
        const e = await dbError(BatchWriter.open(db, ["bw_err_nope"]));
        expect(e.message).toContain("bw_err_nope");
      });

      test.skipIf(!layoutTables)(`insertRows${needsLayout}`, async () => {
        await setup("ir");
        expect(await insertRows(db, "ir_a", [])).toBe(0);
        expect(await insertRows(db, "ir_a", [{ id: 1, s: "x" }, { id: 2, s: "é" }])).toBe(2);
        expect(await insertRows(db, "ir_b", [{ id: 5, tags: ["t"], n: 9n }], ["id", "tags", "n"])).toBe(1);
        expect(await db.query("SELECT id, s FROM ir_a ORDER BY id")).toEqual([{ id: 1, s: "x" }, { id: 2, s: "é" }]);
        expect(await db.query("SELECT id, tags, n FROM ir_b")).toEqual([{ id: 5, tags: ["t"], n: 9n }]);
      });

      test("dedupToken is deterministic per salt, table and data", () => {
        const a = dedupToken("T", new Uint8Array([1, 2]), "s1");
        expect(a).toBe(dedupToken("T", new Uint8Array([1, 2]), "s1"));
        expect(a).not.toBe(dedupToken("T", new Uint8Array([1, 3]), "s1"));
        expect(a).not.toBe(dedupToken("U", new Uint8Array([1, 2]), "s1"));
        expect(a).not.toBe(dedupToken("T", new Uint8Array([1, 2]), "s2"));
      });
    });
  });
}

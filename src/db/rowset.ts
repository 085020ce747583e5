/**
 * Rows of one table kept RowBinary-encoded in memory until they are written in one insert: a
 * loader that must not write before it has read everything (all or nothing) holds compact bytes,
 * not row objects. Encoded pieces are cut at about 1 MB, so the buffer never doubles past that.
 */
import { randomBytes } from "node:crypto";
import { dedupToken } from "./batch";
import { tableEncoder } from "./layout";
import { RowWriter, type RowEncoder } from "./rowbinary";
import type { Db } from "./types";

const PIECE = 1 << 20;

export class EncodedRows {
  rows = 0;
  bytes = 0;
  private readonly pieces: Uint8Array[] = [];
  private readonly writer = new RowWriter(PIECE + (PIECE >> 2));

  private constructor(
    readonly table: string,
    private readonly encoder: RowEncoder,
  ) {}

  /** Reads the table's layout (only `columns` when given). */
  static async open(db: Db, table: string, columns?: readonly string[]): Promise<EncodedRows> {
    return new EncodedRows(table, await tableEncoder(db, table, columns));
  }

  add(row: object): void {
    this.encoder.encode(this.writer, row as Record<string, unknown>);
    this.rows++;
    if (this.writer.pos >= PIECE) this.cut();
  }

  private cut(): void {
    if (this.writer.pos === 0) return;
    this.bytes += this.writer.pos;
    this.pieces.push(this.writer.take());
  }

  /** Writes every row in one insert; returns the number of rows. The rows are kept (a retry may write them again). */
  async insert(db: Db): Promise<number> {
    this.cut();
    if (this.rows === 0) return 0;
    await db.insertRowBinary(this.table, this.encoder.columns, this.pieces, { dedupToken: dedupToken(this.table, this.pieces, randomBytes(8).toString("hex")) });
    return this.rows;
  }
}

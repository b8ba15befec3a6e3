import { type Kysely, sql } from "kysely";
import type { Dialect } from "../connect.js";

/**
 * The ~10 KB document body moves out of `inventory_records` into its own table. With the body in the record row,
 * marking a record processed rewrote the whole document, and reading a record's hash or state walked its
 * overflow pages on SQLite; the record row is now a small index entry that is cheap to read and update.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("inventory_documents")
    .addColumn("record_id", dialect === "sqlite" ? "integer" : "bigint", (c) =>
      c.primaryKey().references("inventory_records.id").onDelete("cascade"),
    )
    .addColumn("data", "text", (c) => c.notNull())
    .execute();
  await sql`insert into inventory_documents (record_id, data) select id, data from inventory_records`.execute(db);
  await db.schema.alterTable("inventory_records").dropColumn("data").execute();
}

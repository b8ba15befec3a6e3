import type { CreateTableBuilder } from "kysely";
import type { Dialect } from "../connect.js";

/** An auto-increment 64-bit primary key named `id`, spelled the way each dialect wants it. */
export function serialId<T extends string>(table: CreateTableBuilder<T, never>, dialect: Dialect) {
  return dialect === "sqlite"
    ? table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    : table.addColumn("id", "bigserial", (c) => c.primaryKey());
}

/** A 64-bit float column: SQLite's `real` is 8 bytes, PostgreSQL's `real` only 4. */
export function floatType(dialect: Dialect) {
  return dialect === "sqlite" ? ("real" as const) : ("double precision" as const);
}

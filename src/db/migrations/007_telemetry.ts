import { type Kysely, sql } from "kysely";
import type { Dialect } from "../connect.js";
import { floatType, serialId } from "./columns.js";

/**
 * Agent telemetry (the dcmon row): metric series and points, downsampled rollups, log lines, agent registrations
 * and the audit log of remote commands. Points are keyed by (series, millisecond time) so a retry of the same
 * batch overwrites instead of duplicating; in SQLite that key is the table itself (WITHOUT ROWID), which keeps a
 * series' points next to each other on disk and spares a second index.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const float = floatType(dialect);
  const withoutRowid = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T) =>
    dialect === "sqlite" ? t.modifyEnd(sql`without rowid`) : t;

  await db.schema
    .createTable("agent_clients")
    .addColumn("system_id", "text", (c) => c.primaryKey().references("systems.id"))
    .addColumn("hostname", "text", (c) => c.notNull())
    .addColumn("hw_hash", "text")
    .addColumn("machine_id", "text")
    .addColumn("agent_version", "text")
    .addColumn("registered_at", "text", (c) => c.notNull())
    .addColumn("last_seen_at", "text")
    .execute();
  await db.schema.createIndex("agent_clients_machine").on("agent_clients").column("machine_id").execute();

  await serialId(db.schema.createTable("metric_series"), dialect)
    .addColumn("system_id", "text", (c) => c.notNull().references("systems.id"))
    .addColumn("metric_name", "text", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("metric_series_key")
    .unique()
    .on("metric_series")
    .columns(["system_id", "metric_name", "labels"])
    .execute();
  await db.schema.createIndex("metric_series_name").on("metric_series").columns(["metric_name", "system_id"]).execute();

  await withoutRowid(
    db.schema
      .createTable("metric_points")
      .addColumn("series_id", "bigint", (c) => c.notNull())
      .addColumn("ts", "bigint", (c) => c.notNull())
      .addColumn("value", float, (c) => c.notNull())
      .addPrimaryKeyConstraint("metric_points_pk", ["series_id", "ts"]),
  ).execute();

  await withoutRowid(
    db.schema
      .createTable("metric_rollups")
      .addColumn("series_id", "bigint", (c) => c.notNull())
      .addColumn("resolution", "integer", (c) => c.notNull())
      .addColumn("bucket", "bigint", (c) => c.notNull())
      .addColumn("count", "integer", (c) => c.notNull())
      .addColumn("sum", float, (c) => c.notNull())
      .addColumn("min", float, (c) => c.notNull())
      .addColumn("max", float, (c) => c.notNull())
      .addColumn("last", float, (c) => c.notNull())
      .addColumn("last_ts", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("metric_rollups_pk", ["series_id", "resolution", "bucket"]),
  ).execute();

  await serialId(db.schema.createTable("log_entries"), dialect)
    .addColumn("system_id", "text", (c) => c.notNull().references("systems.id"))
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("ts", "bigint", (c) => c.notNull())
    .addColumn("severity", "text")
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("received_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("log_entries_system_time").on("log_entries").columns(["system_id", "ts"]).execute();
  await db.schema.createIndex("log_entries_time").on("log_entries").column("ts").execute();

  await serialId(db.schema.createTable("audit_log"), dialect)
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("system_id", "text")
    .addColumn("detail", "text", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("result", "text")
    .execute();
  await db.schema.createIndex("audit_log_time").on("audit_log").column("at").execute();
}

import type { Kysely } from "kysely";
import type { Dialect } from "../connect.js";
import { serialId } from "./columns.js";

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("organizations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("systems")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("system_key", "text", (c) => c.notNull().unique())
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("status_changed_at", "text", (c) => c.notNull())
    .addColumn("last_heartbeat_at", "text")
    .addColumn("last_inventory_at", "text")
    .execute();
  await db.schema.createIndex("systems_org").on("systems").column("org_id").execute();

  await db.schema
    .createTable("api_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await serialId(db.schema.createTable("inventory_records"), dialect)
    .addColumn("system_id", "text", (c) => c.notNull().references("systems.id"))
    .addColumn("received_at", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("data_hash", "text", (c) => c.notNull())
    .addColumn("data_size", "integer", (c) => c.notNull())
    .addColumn("processed_at", "text")
    .addColumn("has_changes", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("change_count", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("inventory_records_system_time")
    .on("inventory_records")
    .columns(["system_id", "received_at", "id"])
    .execute();

  await serialId(db.schema.createTable("inventory_diffs"), dialect)
    .addColumn("system_id", "text", (c) => c.notNull().references("systems.id"))
    .addColumn("record_id", "bigint", (c) => c.notNull())
    .addColumn("previous_record_id", "bigint", (c) => c.notNull())
    .addColumn("field_path", "text", (c) => c.notNull())
    .addColumn("change_type", "text", (c) => c.notNull())
    .addColumn("previous_value", "text")
    .addColumn("current_value", "text")
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("severity", "text", (c) => c.notNull())
    .addColumn("significant", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("inventory_diffs_system_time")
    .on("inventory_diffs")
    .columns(["system_id", "created_at", "id"])
    .execute();
  await db.schema.createIndex("inventory_diffs_record").on("inventory_diffs").column("record_id").execute();

  await serialId(db.schema.createTable("alerts"), dialect)
    .addColumn("fingerprint", "text", (c) => c.notNull().unique())
    .addColumn("system_id", "text")
    .addColumn("labels", "text", (c) => c.notNull())
    .addColumn("annotations", "text", (c) => c.notNull())
    .addColumn("starts_at", "text", (c) => c.notNull())
    .addColumn("ends_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("alerts_ends").on("alerts").column("ends_at").execute();

  await serialId(db.schema.createTable("jobs"), dialect)
    .addColumn("queue", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("run_at", "text", (c) => c.notNull())
    .addColumn("locked_until", "text")
    .addColumn("locked_by", "text")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("jobs_ready").on("jobs").columns(["state", "queue", "run_at", "id"]).execute();
}

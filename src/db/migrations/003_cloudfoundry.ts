import type { Kysely } from "kysely";
import type { Dialect } from "../connect.js";
import { serialId } from "./columns.js";

/**
 * Cloud Foundry usage events, stored once per (source, kind, guid) with their raw entity; `id` is the arrival order
 * paas-billing sequences events by. Each source keeps its own resume marker per event kind.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  // Billing tokens can be limited to some organizations: a JSON array of org guids, null for unrestricted.
  await db.schema.alterTable("api_tokens").addColumn("org_scope", "text").execute();

  await serialId(db.schema.createTable("cf_usage_events"), dialect)
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("guid", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("received_at", "text", (c) => c.notNull())
    .addColumn("org_guid", "text", (c) => c.notNull())
    .addColumn("resource_guid", "text", (c) => c.notNull())
    .addColumn("entity", "text", (c) => c.notNull())
    .addUniqueConstraint("cf_usage_events_guid", ["source", "kind", "guid"])
    .execute();
  await db.schema
    .createIndex("cf_usage_events_org")
    .on("cf_usage_events")
    .columns(["org_guid", "created_at"])
    .execute();
  await db.schema
    .createIndex("cf_usage_events_resource")
    .on("cf_usage_events")
    .columns(["resource_guid", "created_at", "id"])
    .execute();

  await db.schema
    .createTable("cf_markers")
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("guid", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cf_markers_pk", ["source", "kind"])
    .execute();

  await serialId(db.schema.createTable("cf_warnings"), dialect)
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("bill_revisions")
    .addColumn("month", "text", (c) => c.notNull())
    .addColumn("org_guid", "text", (c) => c.notNull())
    .addColumn("revision", "integer", (c) => c.notNull())
    .addColumn("ex_vat", "text", (c) => c.notNull())
    .addColumn("inc_vat", "text", (c) => c.notNull())
    .addColumn("last_event_id", "bigint", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("bill_revisions_pk", ["month", "org_guid", "revision"])
    .execute();
}

import type { Kysely } from "kysely";
import type { Dialect } from "../connect.js";

/**
 * SQLite only: a covering index of everything a bill reads of an event (loadTransitions), keyed as the bill asks
 * (organizations, then time). Without it SQLite steps over each row's raw entity to reach the columns migration 010
 * appended, and reading those pages was most of a bill's load: on the billing bench's million events 5.0 s of CPU
 * for the row lookups alone, 2.9 s for the whole load through the index. PostgreSQL keeps the large entity text out
 * of line (TOAST), so its rows stay small without one.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== "sqlite") return;
  await db.schema
    .createIndex("cf_usage_events_bill")
    .on("cf_usage_events")
    .columns([
      "org_guid",
      "created_at",
      "id",
      "transition",
      "guid",
      "resource_guid",
      "resource_type",
      "resource_name",
      "plan_guid",
      "plan_name",
      "org_name",
      "space_guid",
      "space_name",
      "instance_count",
      "memory_in_mb",
    ])
    .execute();
}

import type { Kysely } from "kysely";

/**
 * Usage events keep their raw entity as delivered; `normalized` adds the few fields billing reads, in one shape for
 * v2 and v3, written when the event is stored. A bill then parses a few hundred bytes per event instead of the raw
 * kilobyte and does not normalize it again. Events stored before this column existed have it null and are read raw.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("cf_usage_events").addColumn("normalized", "text").execute();
}

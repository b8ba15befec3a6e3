import type { Kysely } from "kysely";

/**
 * How many items a job stands for: a diff job carries every record of one ingest transaction, and back-pressure
 * (`queue.max_pending`) must count those records, not the jobs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("jobs")
    .addColumn("weight", "integer", (c) => c.notNull().defaultTo(1))
    .execute();
}

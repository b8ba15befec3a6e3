import { type Kysely, sql } from "kysely";
import { storedEventColumns } from "../../cloudfoundry/event-columns.js";

const COLUMNS = [
  ["transition", "text"],
  ["resource_type", "text"],
  ["resource_name", "text"],
  ["plan_guid", "text"],
  ["plan_name", "text"],
  ["org_name", "text"],
  ["space_guid", "text"],
  ["space_name", "text"],
  ["instance_count", "integer"],
  ["memory_in_mb", "integer"],
] as const;

/** Rows read and rewritten per statement; 11 parameters each stays far below SQLite's and PostgreSQL's limits. */
const BATCH = 1000;

/**
 * Usage events get the fields the interval builder reads as columns of their own (see cloudfoundry/event-columns),
 * so a bill selects a few narrow columns instead of parsing the normalized JSON of every event. Events already
 * stored are filled in from their normalized form (or their raw entity where they have none), a batch at a time,
 * with one `update … from (values …)` per batch, which both dialects accept.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, type] of COLUMNS) {
    await db.schema.alterTable("cf_usage_events").addColumn(name, type).execute();
  }
  await backfillEventColumns(db);
}

/** Writes every stored event's columns from what it kept (its normalized form, else its raw entity). */
export async function backfillEventColumns(db: Kysely<unknown>): Promise<void> {
  // The migrator already runs PostgreSQL's migrations in a transaction; SQLite's get one per batch here.
  const batch = <T>(work: (trx: Kysely<unknown>) => Promise<T>) =>
    db.isTransaction ? work(db) : db.transaction().execute(work);
  let after = 0;
  for (;;) {
    const rows = await sql<{ id: number | string; kind: "app" | "service"; normalized: string | null; entity: string }>`
      select id, kind, normalized, entity from cf_usage_events where id > ${after} order by id limit ${BATCH}`.execute(
      db,
    );
    const last = rows.rows.at(-1);
    if (!last) return;
    after = Number(last.id);
    const values = rows.rows.map((row) => {
      const c = storedEventColumns(row.kind, row.normalized, row.entity);
      const text = (value: string | null) => sql`cast(${value} as text)`;
      const integer = (value: number | null) => sql`cast(${value} as integer)`;
      return sql`(${sql.join([
        sql`cast(${Number(row.id)} as bigint)`,
        text(c.transition),
        text(c.resource_type),
        text(c.resource_name),
        text(c.plan_guid),
        text(c.plan_name),
        text(c.org_name),
        text(c.space_guid),
        text(c.space_name),
        integer(c.instance_count),
        integer(c.memory_in_mb),
      ])})`;
    });
    const names = sql.join(COLUMNS.map(([name]) => sql.ref(name)));
    const assignments = sql.join(COLUMNS.map(([name]) => sql`${sql.ref(name)} = v.${sql.ref(name)}`));
    await batch((trx) =>
      sql`with v (id, ${names}) as (values ${sql.join(values)})
        update cf_usage_events set ${assignments} from v where cf_usage_events.id = v.id`.execute(trx),
    );
  }
}

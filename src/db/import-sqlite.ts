import { sql } from "kysely";
import { type Database, migrate, openDatabase } from "./connect.js";
import type { DB } from "./types.js";

export class ImportSourceError extends Error {
  override name = "ImportSourceError";
}

/** Tables in foreign-key order: parents before children (deletes run in reverse). */
export const TABLES: (keyof DB)[] = [
  "organizations",
  "systems",
  "api_tokens",
  "inventory_records",
  "inventory_documents",
  "inventory_diffs",
  "alerts",
  "jobs",
  "vsphere_snapshots",
  "vm_samples",
  "vm_daily_rollup",
  "vm_monthly_rollup",
  "vcenter_aggregate_totals",
  "vcenter_latest_totals",
  "cf_usage_events",
  "cf_markers",
  "cf_warnings",
  "bill_revisions",
];

const SERIAL_TABLES = new Set([
  "inventory_records",
  "inventory_diffs",
  "alerts",
  "jobs",
  "vsphere_snapshots",
  "cf_usage_events",
  "cf_warnings",
]);
const CHUNK = 500;

export interface ImportProgress {
  table: string;
  done: number;
  total: number;
}

/**
 * Moves an embedded install to PostgreSQL: the SQLite file is migrated to the current schema, then every table is
 * copied in primary-key order, in batches, replacing what the target table held (as vCTP's import does). All of it
 * runs in one PostgreSQL transaction, so a failed import leaves the target as it was.
 */
export async function importFromSqlite(
  sourceFile: string,
  target: Database,
  onProgress?: (p: ImportProgress) => void,
): Promise<Record<string, number>> {
  if (target.dialect !== "postgres") {
    throw new ImportSourceError("import --from sqlite:FILE needs database.url to point at PostgreSQL");
  }
  const source = await openDatabase(`sqlite:${sourceFile}`);
  try {
    await migrate(source);
    const counts: Record<string, number> = {};
    await target.db.transaction().execute(async (trx) => {
      for (const table of [...TABLES].reverse()) await trx.deleteFrom(table).execute();
      for (const table of TABLES) {
        const totalRow = await source.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        const total = Number(totalRow.n);
        let done = 0;
        onProgress?.({ table, done, total });
        for (let offset = 0; offset < total; offset += CHUNK) {
          const rows = await sql<
            Record<string, unknown>
          >`select * from ${sql.table(table)} order by 1, 2 limit ${CHUNK} offset ${offset}`.execute(source.db);
          if (rows.rows.length === 0) break;
          await trx
            .insertInto(table)
            .values(rows.rows as never)
            .execute();
          done += rows.rows.length;
          onProgress?.({ table, done, total });
        }
        if (SERIAL_TABLES.has(table)) {
          await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce((select max(id) from ${sql.table(table)}), 0) + 1, false)`.execute(
            trx,
          );
        }
        counts[table] = done;
      }
    });
    return counts;
  } finally {
    await source.close();
  }
}

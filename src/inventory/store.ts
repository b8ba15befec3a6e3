import type { Kysely, Transaction } from "kysely";
import type { DB } from "../db/types.js";

type Db = Kysely<DB> | Transaction<DB>;

export interface RecordSummary {
  id: number;
  received_at: string;
  data_hash: string;
  data_size: number;
  change_count: number;
}

export interface DiffRow {
  id: number;
  record_id: number;
  field_path: string;
  change_type: string;
  previous_value: unknown;
  current_value: unknown;
  category: string;
  severity: string;
  significant: boolean;
  created_at: string;
}

export async function latestRecord(db: Db, systemId: string) {
  return db
    .selectFrom("inventory_records")
    .innerJoin("inventory_documents", "inventory_documents.record_id", "inventory_records.id")
    .select([
      "inventory_records.id",
      "inventory_records.received_at",
      "inventory_records.data_hash",
      "inventory_documents.data",
    ])
    .where("inventory_records.system_id", "=", systemId)
    .orderBy("inventory_records.received_at", "desc")
    .orderBy("inventory_records.id", "desc")
    .limit(1)
    .executeTakeFirst();
}

export async function listRecords(db: Db, systemId: string, limit: number, offset: number): Promise<RecordSummary[]> {
  return db
    .selectFrom("inventory_records")
    .select(["id", "received_at", "data_hash", "data_size", "change_count"])
    .where("system_id", "=", systemId)
    .orderBy("received_at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .offset(offset)
    .execute();
}

export interface DiffFilter {
  category?: string | undefined;
  severity?: string | undefined;
  since?: string | undefined;
  significant?: boolean | undefined;
  record_id?: number | undefined;
  limit: number;
  offset: number;
}

export async function listDiffs(db: Db, systemId: string, filter: DiffFilter): Promise<DiffRow[]> {
  let query = db
    .selectFrom("inventory_diffs")
    .select([
      "id",
      "record_id",
      "field_path",
      "change_type",
      "previous_value",
      "current_value",
      "category",
      "severity",
      "significant",
      "created_at",
    ])
    .where("system_id", "=", systemId)
    .orderBy("created_at", "desc")
    .orderBy("id", "asc")
    .limit(filter.limit)
    .offset(filter.offset);
  if (filter.category) query = query.where("category", "=", filter.category);
  if (filter.severity) query = query.where("severity", "=", filter.severity);
  if (filter.since) query = query.where("created_at", ">=", filter.since);
  if (filter.significant !== undefined) query = query.where("significant", "=", filter.significant ? 1 : 0);
  if (filter.record_id !== undefined) query = query.where("record_id", "=", filter.record_id);
  const rows = await query.execute();
  return rows.map((r) => ({
    ...r,
    previous_value: r.previous_value === null ? null : JSON.parse(r.previous_value),
    current_value: r.current_value === null ? null : JSON.parse(r.current_value),
    significant: r.significant === 1,
  }));
}

/** Change counts per system, for the systems list. */
export async function changeCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("inventory_records")
    .select(["system_id", (eb) => eb.fn.sum<number>("change_count").as("n")])
    .groupBy("system_id")
    .execute();
  return new Map(rows.map((r) => [r.system_id, Number(r.n ?? 0)]));
}

import type { Insertable, Kysely, Transaction } from "kysely";
import type { Dialect } from "../db/connect.js";
import { PreparedQuery, param } from "../db/prepared-query.js";
import type { DB } from "../db/types.js";
import { upsertAlert } from "../alerts/store.js";
import { addMinutes, iso } from "../lib/time.js";
import { systemLabels } from "../systems/registry.js";
import { diffDocuments } from "./differ.js";
import { classify, type Classification } from "./rules.js";
import type { InventoryRules } from "./settings.js";
import type { DocumentCache } from "./document-cache.js";

export interface ProcessDeps {
  db: Kysely<DB>;
  dialect: Dialect;
  rules: InventoryRules;
  changeAlertMinutes: number;
  /** Documents this process stored recently; a miss reads the database. */
  cache?: DocumentCache | undefined;
}

const SEVERITY_RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };
// SQLite accepts up to 32766 bound parameters per statement; 12 columns × 500 rows stays well below it.
const INSERT_CHUNK = 500;

/**
 * Diffs one stored record against the record it follows, classifies every change and raises a change alert for
 * significant high/critical changes — all in one transaction that also marks the record processed. A record that
 * is already processed is skipped, so a job that runs twice (crash before its removal) writes nothing twice.
 */
export async function processRecord(deps: ProcessDeps, recordId: number, now = new Date()): Promise<void> {
  await deps.db.transaction().execute((trx) => processInTransaction(trx, deps, recordId, now));
}

/**
 * Processes the records one ingest batch stored, in one transaction, so a busy server pays one commit per batch
 * rather than per document. If any record fails, each is retried in its own transaction so the good ones are
 * kept, and the first error is rethrown for the queue to retry (processed records are skipped then).
 */
export async function processRecords(deps: ProcessDeps, recordIds: number[], now = new Date()): Promise<void> {
  try {
    await deps.db.transaction().execute(async (trx) => {
      for (const id of recordIds) await processInTransaction(trx, deps, id, now);
    });
  } catch (batchError) {
    if (recordIds.length === 1) throw batchError;
    let first: unknown;
    for (const id of recordIds) {
      try {
        await processRecord(deps, id, now);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }
}

const recordById = new PreparedQuery<
  { id: number },
  { id: number; system_id: string; received_at: string; processed_at: string | null }
>((db) =>
  db
    .selectFrom("inventory_records")
    .select(["id", "system_id", "received_at", "processed_at"])
    .where("id", "=", param<number>("id")),
);

/** The record a record follows: the latest one of its system before it by received time, then id. */
const recordBefore = new PreparedQuery<{ system_id: string; at: string; id: number }, { id: number }>((db) =>
  db
    .selectFrom("inventory_records")
    .select("id")
    .where("system_id", "=", param("system_id"))
    .where((eb) =>
      eb.or([
        eb("received_at", "<", param("at")),
        eb.and([eb("received_at", "=", param("at")), eb("id", "<", param<number>("id"))]),
      ]),
    )
    .orderBy("received_at", "desc")
    .orderBy("id", "desc")
    .limit(1),
);

const documentById = new PreparedQuery<{ id: number }, { data: string }>((db) =>
  db.selectFrom("inventory_documents").select("data").where("record_id", "=", param<number>("id")),
);

const markProcessed = new PreparedQuery<{ id: number; at: string; has_changes: number; change_count: number }, never>(
  (db) =>
    db
      .updateTable("inventory_records")
      .set({
        processed_at: param("at"),
        has_changes: param<number>("has_changes"),
        change_count: param<number>("change_count"),
      })
      .where("id", "=", param<number>("id"))
      .where("processed_at", "is", null),
);

type DiffRow = Omit<Insertable<DB["inventory_diffs"]>, "id">;

/** Most documents change a field or three: those rows go through one compiled statement instead of a built one. */
const ROW_BY_ROW = 8;

const insertDiff = new PreparedQuery<Required<DiffRow>, never>((db) =>
  db.insertInto("inventory_diffs").values({
    system_id: param("system_id"),
    record_id: param<number>("record_id"),
    previous_record_id: param<number>("previous_record_id"),
    field_path: param("field_path"),
    change_type: param("change_type"),
    previous_value: param("previous_value"),
    current_value: param("current_value"),
    category: param("category"),
    severity: param("severity"),
    significant: param<number>("significant"),
    created_at: param("created_at"),
  }),
);

async function loadDocument(trx: Transaction<DB>, deps: ProcessDeps, recordId: number): Promise<unknown> {
  const cached = deps.cache?.get(recordId);
  if (cached !== undefined) return cached;
  const [row] = (await documentById.execute(trx, deps.dialect, { id: recordId })).rows;
  if (!row) throw new Error(`inventory record ${recordId} has no document`);
  return JSON.parse(row.data);
}

async function processInTransaction(trx: Transaction<DB>, deps: ProcessDeps, recordId: number, now: Date) {
  const [record] = (await recordById.execute(trx, deps.dialect, { id: recordId })).rows;
  if (!record || record.processed_at !== null) return;
  const [previous] = (
    await recordBefore.execute(trx, deps.dialect, {
      system_id: record.system_id,
      at: record.received_at,
      id: record.id,
    })
  ).rows;
  const changes = previous
    ? diffDocuments(
        await loadDocument(trx, deps, previous.id),
        await loadDocument(trx, deps, record.id),
        deps.rules.differ,
      ).map((change) => ({ change, classification: classify(change, deps.rules.rules) }))
    : [];
  // On PostgreSQL a second worker holding the same record (an expired lease) blocks here and then finds it done.
  const marked = await markProcessed.execute(trx, deps.dialect, {
    id: record.id,
    at: iso(now),
    has_changes: changes.length > 0 ? 1 : 0,
    change_count: changes.length,
  });
  if (Number(marked.numAffectedRows ?? 0) === 0) return;
  // The next record of this system diffs against this one; nothing diffs against the older one any more.
  if (previous) deps.cache?.delete(previous.id);
  const rows = changes.map(({ change, classification }) => ({
    system_id: record.system_id,
    record_id: record.id,
    previous_record_id: previous?.id ?? record.id,
    field_path: change.path,
    change_type: change.type,
    previous_value: change.previous === undefined ? null : JSON.stringify(change.previous),
    current_value: change.current === undefined ? null : JSON.stringify(change.current),
    category: classification.category,
    severity: classification.severity,
    significant: classification.significant ? 1 : 0,
    created_at: record.received_at,
  }));
  if (rows.length <= ROW_BY_ROW) {
    for (const row of rows) await insertDiff.execute(trx, deps.dialect, row);
  } else {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx
        .insertInto("inventory_diffs")
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }
  }
  await raiseChangeAlert(trx, deps, record, changes, now);
}

async function raiseChangeAlert(
  trx: Transaction<DB>,
  deps: ProcessDeps,
  record: { id: number; system_id: string; received_at: string },
  changes: { change: { path: string; type: string }; classification: Classification }[],
  now: Date,
): Promise<void> {
  const alerting = changes.filter(
    ({ classification: c }) => c.significant && (c.severity === "high" || c.severity === "critical"),
  );
  if (alerting.length === 0) return;
  const worst = alerting.reduce((a, b) =>
    (SEVERITY_RANK[b.classification.severity] ?? 0) > (SEVERITY_RANK[a.classification.severity] ?? 0) ? b : a,
  );
  const labels = await systemLabels(trx, record.system_id);
  const categories = [...new Set(alerting.map((c) => c.classification.category))].sort();
  const listed = alerting.slice(0, 10).map(({ change }) => `${change.type} ${change.path}`);
  await upsertAlert(
    trx,
    {
      fingerprint: `inventory-change:${record.id}`,
      system_id: record.system_id,
      labels: {
        alertname: "InventoryChanged",
        severity: worst.classification.severity,
        category: categories.join(","),
        ...labels,
      },
      annotations: {
        summary: `${alerting.length} significant ${worst.classification.severity} change(s) on ${labels.system_name}`,
        description:
          listed.join("\n") +
          (alerting.length > listed.length ? `\n… and ${alerting.length - listed.length} more` : ""),
        record_id: String(record.id),
      },
      starts_at: record.received_at,
      ends_at: addMinutes(record.received_at, deps.changeAlertMinutes),
    },
    now,
  );
}

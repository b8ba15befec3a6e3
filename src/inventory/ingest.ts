import { createHash } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Dialect } from "../db/connect.js";
import { PreparedQuery, param } from "../db/prepared-query.js";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";
import type { Queue } from "../queue/types.js";
import { canonicalJson } from "./canonical.js";
import { GroupCommit } from "../lib/group-commit.js";
import type { DocumentCache } from "./document-cache.js";

export const DIFF_QUEUE = "inventory.diff";

export interface IngestDeps {
  db: Kysely<DB>;
  dialect: Dialect;
  queue: Queue;
  /** Where stored documents are kept for this process's diff jobs; absent when another process diffs. */
  cache?: DocumentCache | undefined;
}

export interface IngestResult {
  id: number;
  duplicate: boolean;
  size: number;
}

/** A document ready to store: its canonical form is computed outside the write transaction. */
export interface PreparedDocument {
  systemId: string;
  receivedAt: Date;
  /** The parsed document the canonical form was written from; it must not change afterwards. */
  data: unknown;
  canonical: string;
  hash: string;
  size: number;
}

export function prepareDocument(systemId: string, data: unknown, receivedAt: Date): PreparedDocument {
  const canonical = canonicalJson(data);
  return {
    systemId,
    receivedAt,
    data,
    canonical,
    hash: createHash("sha256").update(canonical).digest("hex"),
    size: Buffer.byteLength(canonical),
  };
}

/**
 * Stores documents durably and queues their diffs in one transaction, before any caller answers. A document whose
 * canonical JSON hashes the same as the record it follows is a duplicate: nothing is stored and the existing
 * record's id is returned, so re-sending the latest payload never creates diffs twice. Documents are applied in
 * the given order, so a batch holding two documents of one system diffs the second against the first.
 */
export async function ingestBatch(deps: IngestDeps, documents: PreparedDocument[]): Promise<IngestResult[]> {
  const results = await deps.db.transaction().execute(async (trx) => {
    // Serialises concurrent writers of one system on PostgreSQL so two cannot pass the duplicate check together;
    // locking in id order keeps two batches from deadlocking on each other.
    if (deps.dialect === "postgres") {
      const ids = [...new Set(documents.map((d) => d.systemId))].sort();
      await trx.selectFrom("systems").select("id").where("id", "in", ids).orderBy("id").forUpdate().execute();
    }
    const results: IngestResult[] = [];
    const stored: number[] = [];
    for (const doc of documents) {
      const result = await storeOne(trx, deps.dialect, doc);
      if (!result.duplicate) stored.push(result.id);
      results.push(result);
    }
    if (stored.length > 0) await deps.queue.enqueue(trx, DIFF_QUEUE, { record_ids: stored }, stored.length);
    return results;
  });
  // Only committed documents may be cached: the cache must never hold a record the database does not.
  if (deps.cache) {
    for (const [i, result] of results.entries()) {
      const doc = documents[i] as PreparedDocument;
      if (!result.duplicate) deps.cache.put(result.id, doc.data, doc.size);
    }
  }
  return results;
}

const previousRecord = new PreparedQuery<{ system_id: string; at: string }, { id: number; data_hash: string }>((db) =>
  db
    .selectFrom("inventory_records")
    .select(["id", "data_hash"])
    .where("system_id", "=", param("system_id"))
    .where("received_at", "<=", param("at"))
    .orderBy("received_at", "desc")
    .orderBy("id", "desc")
    .limit(1),
);

const touchSystem = new PreparedQuery<{ system_id: string; at: string }, never>((db) =>
  db
    .updateTable("systems")
    .set({ last_inventory_at: param("at") })
    .where("id", "=", param("system_id"))
    .where((eb) => eb.or([eb("last_inventory_at", "is", null), eb("last_inventory_at", "<", param("at"))])),
);

const insertRecord = new PreparedQuery<{ system_id: string; at: string; hash: string; size: number }, { id: number }>(
  (db) =>
    db
      .insertInto("inventory_records")
      .values({
        system_id: param("system_id"),
        received_at: param("at"),
        data_hash: param("hash"),
        data_size: param<number>("size"),
        has_changes: 0,
        change_count: 0,
      })
      .returning("id"),
);

const insertDocument = new PreparedQuery<{ record_id: number; data: string }, never>((db) =>
  db.insertInto("inventory_documents").values({ record_id: param<number>("record_id"), data: param("data") }),
);

async function storeOne(trx: Transaction<DB>, dialect: Dialect, doc: PreparedDocument): Promise<IngestResult> {
  const at = iso(doc.receivedAt);
  const [previous] = (await previousRecord.execute(trx, dialect, { system_id: doc.systemId, at })).rows;
  await touchSystem.execute(trx, dialect, { system_id: doc.systemId, at });
  if (previous?.data_hash === doc.hash) return { id: previous.id, duplicate: true, size: doc.size };
  const inserted = await insertRecord.execute(trx, dialect, {
    system_id: doc.systemId,
    at,
    hash: doc.hash,
    size: doc.size,
  });
  const id = (inserted.rows[0] as { id: number }).id;
  await insertDocument.execute(trx, dialect, { record_id: id, data: doc.canonical });
  return { id, duplicate: false, size: doc.size };
}

export async function ingestDocument(
  deps: IngestDeps,
  systemId: string,
  data: unknown,
  receivedAt: Date,
): Promise<IngestResult> {
  const [result] = await ingestBatch(deps, [prepareDocument(systemId, data, receivedAt)]);
  return result as IngestResult;
}

/** Group commit for the push API (see GroupCommit): one transaction acknowledges the documents that arrived meanwhile. */
export class IngestBatcher {
  private readonly group: GroupCommit<PreparedDocument, IngestResult>;

  constructor(deps: IngestDeps, maxBatch: number) {
    this.group = new GroupCommit(
      (documents) => ingestBatch(deps, documents),
      (waiting) => Math.min(waiting.length, maxBatch),
    );
  }

  submit(document: PreparedDocument): Promise<IngestResult> {
    return this.group.submit(document);
  }
}

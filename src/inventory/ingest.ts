import { createHash } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Dialect } from "../db/connect.js";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";
import type { Queue } from "../queue/types.js";
import { canonicalJson } from "./canonical.js";
import { GroupCommit } from "../lib/group-commit.js";

export const DIFF_QUEUE = "inventory.diff";

export interface IngestDeps {
  db: Kysely<DB>;
  dialect: Dialect;
  queue: Queue;
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
  canonical: string;
  hash: string;
  size: number;
}

export function prepareDocument(systemId: string, data: unknown, receivedAt: Date): PreparedDocument {
  const canonical = canonicalJson(data);
  return {
    systemId,
    receivedAt,
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
  return deps.db.transaction().execute(async (trx) => {
    // Serialises concurrent writers of one system on PostgreSQL so two cannot pass the duplicate check together;
    // locking in id order keeps two batches from deadlocking on each other.
    if (deps.dialect === "postgres") {
      const ids = [...new Set(documents.map((d) => d.systemId))].sort();
      await trx.selectFrom("systems").select("id").where("id", "in", ids).orderBy("id").forUpdate().execute();
    }
    const results: IngestResult[] = [];
    const stored: number[] = [];
    for (const doc of documents) {
      const result = await storeOne(trx, doc);
      if (!result.duplicate) stored.push(result.id);
      results.push(result);
    }
    if (stored.length > 0) await deps.queue.enqueue(trx, DIFF_QUEUE, { record_ids: stored }, stored.length);
    return results;
  });
}

async function storeOne(trx: Transaction<DB>, doc: PreparedDocument): Promise<IngestResult> {
  const at = iso(doc.receivedAt);
  const previous = await trx
    .selectFrom("inventory_records")
    .select(["id", "data_hash"])
    .where("system_id", "=", doc.systemId)
    .where("received_at", "<=", at)
    .orderBy("received_at", "desc")
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  await trx
    .updateTable("systems")
    .set({ last_inventory_at: at })
    .where("id", "=", doc.systemId)
    .where((eb) => eb.or([eb("last_inventory_at", "is", null), eb("last_inventory_at", "<", at)]))
    .execute();
  if (previous?.data_hash === doc.hash) return { id: previous.id, duplicate: true, size: doc.size };
  const row = await trx
    .insertInto("inventory_records")
    .values({
      system_id: doc.systemId,
      received_at: at,
      data: doc.canonical,
      data_hash: doc.hash,
      data_size: doc.size,
      has_changes: 0,
      change_count: 0,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { id: row.id, duplicate: false, size: doc.size };
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

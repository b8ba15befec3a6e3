import type { Kysely } from "kysely";
import type { Dialect } from "../db/connect.js";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";
import type { Queue } from "../queue/types.js";
import { canonicalJson } from "./canonical.js";
import { createHash } from "node:crypto";
import { recordBefore } from "./store.js";

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

/**
 * Stores one inventory document durably and queues its diff, both in one transaction, before the caller answers.
 * A document whose canonical JSON hashes the same as the record it follows is a duplicate: nothing is stored and
 * the existing record's id is returned, so re-sending the latest payload never creates diffs twice.
 */
export async function ingestDocument(
  deps: IngestDeps,
  systemId: string,
  data: unknown,
  receivedAt: Date,
): Promise<IngestResult> {
  const canonical = canonicalJson(data);
  const hash = createHash("sha256").update(canonical).digest("hex");
  const size = Buffer.byteLength(canonical);
  const at = iso(receivedAt);
  return deps.db.transaction().execute(async (trx) => {
    // Serialises concurrent documents of one system on PostgreSQL so both cannot pass the duplicate check.
    if (deps.dialect === "postgres") {
      await trx.selectFrom("systems").select("id").where("id", "=", systemId).forUpdate().execute();
    }
    const previous = await recordBefore(trx, systemId, at);
    await trx
      .updateTable("systems")
      .set({ last_inventory_at: at })
      .where("id", "=", systemId)
      .where((eb) => eb.or([eb("last_inventory_at", "is", null), eb("last_inventory_at", "<", at)]))
      .execute();
    if (previous?.data_hash === hash) return { id: previous.id, duplicate: true, size };
    const row = await trx
      .insertInto("inventory_records")
      .values({
        system_id: systemId,
        received_at: at,
        data: canonical,
        data_hash: hash,
        data_size: size,
        has_changes: 0,
        change_count: 0,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await deps.queue.enqueue(trx, DIFF_QUEUE, { record_id: row.id });
    return { id: row.id, duplicate: false, size };
  });
}

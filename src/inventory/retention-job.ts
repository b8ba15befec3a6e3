import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { planRetention, type RetentionTier } from "./retention.js";

export interface PruneOptions {
  now: Date;
  tiers: RetentionTier[];
  batchSize: number;
  dryRun: boolean;
}

export interface PruneResult {
  kept: number[];
  deleted: number[];
}

/**
 * Thins full records system by system; diffs are never touched. Deletes run in small transactions with a yield
 * between them so ingest is never blocked for long. A system with records still waiting for their diff is left
 * for the next run: its records are the inputs of those diffs.
 */
export async function pruneRecords(db: Kysely<DB>, options: PruneOptions): Promise<PruneResult> {
  const kept: number[] = [];
  const deleted: number[] = [];
  const systems = await db.selectFrom("inventory_records").select("system_id").distinct().execute();
  for (const { system_id } of systems) {
    const records = await db
      .selectFrom("inventory_records")
      .select(["id", "received_at", "processed_at"])
      .where("system_id", "=", system_id)
      .execute();
    if (records.some((r) => r.processed_at === null)) {
      kept.push(...records.map((r) => r.id));
      continue;
    }
    const plan = planRetention(records, options.now, options.tiers);
    kept.push(...plan.keep);
    deleted.push(...plan.delete);
    if (options.dryRun) continue;
    for (let i = 0; i < plan.delete.length; i += options.batchSize) {
      const ids = plan.delete.slice(i, i + options.batchSize);
      await db.deleteFrom("inventory_records").where("id", "in", ids).execute();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return { kept: kept.sort((a, b) => a - b), deleted: deleted.sort((a, b) => a - b) };
}

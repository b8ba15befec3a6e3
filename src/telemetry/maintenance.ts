/** One maintenance pass, as the schedule and `fleetledger telemetry maintain` run it. */
import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { type RetentionResult, type TelemetryRetention, applyRetention } from "./retention.js";
import { type RollupResult, rollupRecent } from "./rollup.js";

export interface MaintenanceResult {
  rollup: RollupResult;
  retention: RetentionResult;
}

/** Rolls up the recent hours first, so the retention step only has to finalize hours that are leaving anyway. */
export async function maintainTelemetry(
  db: Kysely<DB>,
  retention: TelemetryRetention,
  now: number,
): Promise<MaintenanceResult> {
  const rollup = await rollupRecent(db, now);
  return { rollup, retention: await applyRetention(db, retention, now) };
}

/**
 * Drops telemetry past its retention: raw points after metrics_days (each hour rolled up one last time in the same
 * transaction that deletes it), 5-minute and 1-hour rollups after their own periods, log lines after logs_days.
 * Work is cut into small transactions (a chunk of series and one hour, or a few thousand log lines) with a yield
 * between them, so ingest waits at most for one of them.
 */
import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { HOUR_MS, hourFloor, readHour, seriesIds, writeBuckets } from "./rollup.js";

const DAY_MS = 86_400_000;
const SERIES_CHUNK = 200;
const LOG_BATCH = 5_000;

export interface TelemetryRetention {
  metrics_days: number;
  rollup_5m_days: number;
  rollup_1h_days: number;
  logs_days: number;
}

export interface RetentionResult {
  /** Raw points deleted, and the rollup rows rewritten from them just before. */
  points: number;
  finalRollupRows: number;
  rollups5m: number;
  rollups1h: number;
  logs: number;
}

const pause = () => new Promise((resolve) => setImmediate(resolve));

export async function applyRetention(
  db: Kysely<DB>,
  retention: TelemetryRetention,
  now: number,
): Promise<RetentionResult> {
  const result: RetentionResult = { points: 0, finalRollupRows: 0, rollups5m: 0, rollups1h: 0, logs: 0 };
  // Whole hours only: a later run must never roll up the remainder of an hour whose first part is gone. Ingest
  // refuses points older than metrics_days, so no point can arrive in an hour already deleted.
  const pointsCutoff = hourFloor(now - retention.metrics_days * DAY_MS);
  const ids = await seriesIds(db);
  for (let i = 0; i < ids.length; i += SERIES_CHUNK) {
    const chunk = ids.slice(i, i + SERIES_CHUNK);
    const oldest = await db
      .selectFrom("metric_points")
      .select((eb) => eb.fn.min("ts").as("ts"))
      .where("series_id", "in", chunk)
      .where("ts", "<", pointsCutoff)
      .executeTakeFirst();
    if (oldest?.ts === null || oldest?.ts === undefined) continue;
    for (let hour = hourFloor(Number(oldest.ts)); hour < pointsCutoff; hour += HOUR_MS) {
      const done = await db.transaction().execute(async (trx) => {
        const points = await readHour(trx, chunk, hour);
        const rows = await writeBuckets(trx, points);
        if (points.length > 0) {
          await trx
            .deleteFrom("metric_points")
            .where("series_id", "in", chunk)
            .where("ts", ">=", hour)
            .where("ts", "<", hour + HOUR_MS)
            .execute();
        }
        return { points: points.length, rows };
      });
      result.points += done.points;
      result.finalRollupRows += done.rows;
      await pause();
    }
  }

  for (const [resolution, days, key] of [
    [300, retention.rollup_5m_days, "rollups5m"],
    [3_600, retention.rollup_1h_days, "rollups1h"],
  ] as const) {
    const cutoff = now - days * DAY_MS;
    for (let i = 0; i < ids.length; i += SERIES_CHUNK) {
      const deleted = await db
        .deleteFrom("metric_rollups")
        .where("series_id", "in", ids.slice(i, i + SERIES_CHUNK))
        .where("resolution", "=", resolution)
        .where("bucket", "<", cutoff)
        .executeTakeFirst();
      result[key] += Number(deleted.numDeletedRows);
      await pause();
    }
  }

  const logsCutoff = now - retention.logs_days * DAY_MS;
  for (;;) {
    const deleted = await db
      .deleteFrom("log_entries")
      .where("id", "in", (eb) =>
        eb.selectFrom("log_entries").select("id").where("ts", "<", logsCutoff).orderBy("ts").limit(LOG_BATCH),
      )
      .executeTakeFirst();
    const count = Number(deleted.numDeletedRows);
    result.logs += count;
    if (count < LOG_BATCH) break;
    await pause();
  }
  return result;
}

/**
 * Keeps the 5-minute and 1-hour rollups in step with the raw points. Every bucket is recomputed from all of its raw
 * points and written over the stored row, so a run can repeat or overlap another without counting a point twice.
 */
import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { type BucketRow, bucketize, ROLLUP_RESOLUTIONS, type RawPoint } from "./rollup-buckets.js";

export const HOUR_MS = 3_600_000;
/**
 * Hours recomputed by every run, the current one included. Agents that were cut off for up to this long resend
 * their spool into buckets that are still recomputed; anything older reaches its rollups when its raw hour is
 * rolled up one last time before retention deletes it (see retention.ts), while queries over recent days read it
 * from the raw points.
 */
export const RECOMPUTE_HOURS = 3;
// 200 series × 1 hour stays below ~100,000 points per read even at 10 s sampling.
const SERIES_CHUNK = 200;
// 9 values per row: far below SQLite's 32,766 and PostgreSQL's 65,535 placeholders per statement.
const UPSERT_ROWS = 1_000;

export interface RollupResult {
  hours: number;
  points: number;
  rows: number;
}

export const hourFloor = (ts: number): number => Math.floor(ts / HOUR_MS) * HOUR_MS;

export async function seriesIds(db: Kysely<DB>): Promise<number[]> {
  const rows = await db.selectFrom("metric_series").select("id").orderBy("id").execute();
  return rows.map((r) => Number(r.id));
}

/** Recomputes the last RECOMPUTE_HOURS hours up to and including the one holding `now`. */
export function rollupRecent(db: Kysely<DB>, now: number): Promise<RollupResult> {
  const end = hourFloor(now) + HOUR_MS;
  return rollupHours(db, end - RECOMPUTE_HOURS * HOUR_MS, end);
}

/** Recomputes every bucket of the whole hours in [from, to) (both rounded down to an hour) for every series. */
export async function rollupHours(db: Kysely<DB>, from: number, to: number): Promise<RollupResult> {
  const ids = await seriesIds(db);
  const result: RollupResult = { hours: 0, points: 0, rows: 0 };
  for (let hour = hourFloor(from); hour < hourFloor(to); hour += HOUR_MS) {
    result.hours++;
    for (let i = 0; i < ids.length; i += SERIES_CHUNK) {
      const points = await readHour(db, ids.slice(i, i + SERIES_CHUNK), hour);
      result.points += points.length;
      result.rows += await writeBuckets(db, points);
      // Lets queued requests (ingest, queries) run between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return result;
}

/** Raw points of the series in [hour, hour + 1 h), sorted by series then time. */
export async function readHour(db: Kysely<DB>, ids: readonly number[], hour: number): Promise<RawPoint[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom("metric_points")
    .select(["series_id", "ts", "value"])
    .where("series_id", "in", ids)
    .where("ts", ">=", hour)
    .where("ts", "<", hour + HOUR_MS)
    .orderBy("series_id")
    .orderBy("ts")
    .execute();
  return rows.map((r) => ({ series_id: Number(r.series_id), ts: Number(r.ts), value: r.value }));
}

/** Upserts the 5-minute and 1-hour buckets of whole hours of points; returns the number of rows written. */
export async function writeBuckets(db: Kysely<DB>, points: readonly RawPoint[]): Promise<number> {
  if (points.length === 0) return 0;
  const rows: BucketRow[] = ROLLUP_RESOLUTIONS.flatMap((resolution) => bucketize(points, resolution));
  for (let i = 0; i < rows.length; i += UPSERT_ROWS) {
    await db
      .insertInto("metric_rollups")
      .values(rows.slice(i, i + UPSERT_ROWS))
      .onConflict((oc) =>
        oc.columns(["series_id", "resolution", "bucket"]).doUpdateSet((eb) => ({
          count: eb.ref("excluded.count"),
          sum: eb.ref("excluded.sum"),
          min: eb.ref("excluded.min"),
          max: eb.ref("excluded.max"),
          last: eb.ref("excluded.last"),
          last_ts: eb.ref("excluded.last_ts"),
        })),
      )
      .execute();
  }
  return rows.length;
}

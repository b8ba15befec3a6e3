/** Reads of stored series, points and rollups for the query API. */
import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import type { LabelSet } from "./labels.js";
import type { Sample } from "./rate.js";

export interface SeriesInfo {
  id: number;
  systemId: string;
  systemName: string;
  metricName: string;
  labels: LabelSet;
}

export interface RollupRow {
  series_id: number;
  bucket: number;
  count: number;
  sum: number;
  last: number;
  last_ts: number;
}

// Keeps each IN list far below the placeholder limits of both databases.
const ID_CHUNK = 1000;

export async function findSeries(db: Kysely<DB>, metricNames: string[], systemIds?: string[]): Promise<SeriesInfo[]> {
  let query = db
    .selectFrom("metric_series")
    .innerJoin("systems", "systems.id", "metric_series.system_id")
    .select([
      "metric_series.id as id",
      "metric_series.system_id as system_id",
      "systems.name as system_name",
      "metric_series.metric_name as metric_name",
      "metric_series.labels as labels",
    ])
    .where("metric_series.metric_name", "in", metricNames)
    .orderBy("metric_series.system_id")
    .orderBy("metric_series.metric_name")
    .orderBy("metric_series.labels");
  if (systemIds) query = query.where("metric_series.system_id", "in", systemIds);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    systemId: r.system_id,
    systemName: r.system_name,
    metricName: r.metric_name,
    labels: JSON.parse(r.labels) as LabelSet,
  }));
}

/** Points of the series with from < ts ≤ to, sorted by time, by series id. */
export async function readPoints(
  db: Kysely<DB>,
  seriesIds: readonly number[],
  from: number,
  to: number,
): Promise<Map<number, Sample[]>> {
  const out = new Map<number, Sample[]>();
  for (let start = 0; start < seriesIds.length; start += ID_CHUNK) {
    const rows = await db
      .selectFrom("metric_points")
      .select(["series_id", "ts", "value"])
      .where("series_id", "in", seriesIds.slice(start, start + ID_CHUNK))
      .where("ts", ">", from)
      .where("ts", "<=", to)
      .orderBy("series_id")
      .orderBy("ts")
      .execute();
    let current: Sample[] | undefined;
    let currentId = Number.NaN;
    for (const r of rows) {
      const id = Number(r.series_id);
      if (id !== currentId) {
        currentId = id;
        current = [];
        out.set(id, current);
      }
      (current as Sample[]).push({ t: Number(r.ts), v: r.value });
    }
  }
  return out;
}

/** Rollup rows of one resolution with from < bucket ≤ to, sorted by bucket, by series id. */
export async function readRollups(
  db: Kysely<DB>,
  seriesIds: readonly number[],
  resolution: number,
  from: number,
  to: number,
): Promise<Map<number, RollupRow[]>> {
  const out = new Map<number, RollupRow[]>();
  for (let start = 0; start < seriesIds.length; start += ID_CHUNK) {
    const rows = await db
      .selectFrom("metric_rollups")
      .select(["series_id", "bucket", "count", "sum", "last", "last_ts"])
      .where("series_id", "in", seriesIds.slice(start, start + ID_CHUNK))
      .where("resolution", "=", resolution)
      .where("bucket", ">", from)
      .where("bucket", "<=", to)
      .orderBy("series_id")
      .orderBy("bucket")
      .execute();
    for (const r of rows) {
      const id = Number(r.series_id);
      let list = out.get(id);
      if (!list) {
        list = [];
        out.set(id, list);
      }
      list.push({
        series_id: id,
        bucket: Number(r.bucket),
        count: Number(r.count),
        sum: r.sum,
        last: r.last,
        last_ts: Number(r.last_ts),
      });
    }
  }
  return out;
}

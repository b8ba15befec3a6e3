/**
 * Answers the time-series and rate queries: picks the data source for the step (raw points, 5-minute or 1-hour
 * rollups), reads it with one query per source, evaluates every series on the step grid (Prometheus instant values
 * or rate/increase/irate) and combines the series of each system.
 */
import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { aggregateAligned, alignToGrid } from "./grid.js";
import { type LabelSet, matchesLabelFilter } from "./labels.js";
import type { TimeseriesQuery } from "./query-params.js";
import { type Grid, rangeFunction, type Sample } from "./rate.js";
import { findSeries, type RollupRow, readPoints, readRollups, type SeriesInfo } from "./store.js";

const DAY_MS = 86_400_000;
/** Prometheus' default lookback for instant values. */
export const LOOKBACK_MS = 5 * 60_000;

export type Source = "raw" | "5m" | "1h";
const RESOLUTION_MS: Record<Exclude<Source, "raw">, number> = { "5m": 300_000, "1h": 3_600_000 };

export interface Retention {
  metricsDays: number;
  rollup5mDays: number;
}

export interface SourcePlan {
  source: Source;
  /** Window of rate/increase/irate actually used. */
  window: number;
  /** Lookback of instant values actually used. */
  lookback: number;
  /** Samples are read with from < t ≤ until. */
  from: number;
}

/**
 * Raw points below a 5-minute step, 5-minute rollups below an hour, 1-hour rollups above; a coarser source also
 * takes over when the samples needed reach back beyond the finer one's retention. Rollups hold one sample per
 * bucket, so windows and lookbacks widen to keep two samples per rate window and one per lookback (the idea behind
 * Grafana's $__rate_interval).
 */
export function planSource(query: TimeseriesQuery, rate: boolean, retention: Retention, now: number): SourcePlan {
  const reach = (source: Source) => {
    const resolution = source === "raw" ? 0 : RESOLUTION_MS[source];
    const window = rate ? Math.max(query.window, resolution === 0 ? 0 : query.step + resolution, 2 * resolution) : 0;
    const lookback = Math.max(LOOKBACK_MS, resolution);
    const from = rate ? query.since - window - query.step : query.since - lookback;
    return { source, window: rate ? window : query.window, lookback, from };
  };
  const raw = reach("raw");
  if (query.step < 300_000 && raw.from >= now - retention.metricsDays * DAY_MS) return raw;
  const fine = reach("5m");
  if (query.step < 3_600_000 && fine.from >= now - retention.rollup5mDays * DAY_MS) return fine;
  return reach("1h");
}

export interface SeriesPoints {
  metric: string;
  labels: LabelSet;
  points: { timestamp: number; value: number }[];
}

export interface TimeseriesAnswer {
  data: Record<string, { timestamp: number; value: number }[] | SeriesPoints[]>;
  clients: Record<string, string>;
  time_range: { start: number; end: number };
  metric: string;
  aggregation: string;
  unit: string;
  step: number;
  source: Source;
  rate_window_minutes?: number;
  function?: string;
  window_seconds?: number;
  step_raised_from?: number;
}

export async function runTimeseriesQuery(
  db: Kysely<DB>,
  query: TimeseriesQuery,
  rate: boolean,
  retention: Retention,
  now: number,
): Promise<TimeseriesAnswer> {
  const plan = planSource(query, rate, retention, now);
  const grid: Grid = { start: query.since, end: query.until, step: query.step };
  const series = (await findSeries(db, query.metrics, query.systems)).filter((s) =>
    matchesLabelFilter(s.labels, query.labels),
  );
  const samples = await readSamples(db, series, plan, query.until, rate);

  const perSystem = new Map<string, { name: string; evaluated: { info: SeriesInfo; points: Sample[] }[] }>();
  for (const info of series) {
    const input = samples.get(info.id) ?? [];
    const points = rate ? rangeFunction(query.fn, input, grid, plan.window) : alignToGrid(input, grid, plan.lookback);
    if (points.length === 0) continue;
    let entry = perSystem.get(info.systemId);
    if (!entry) {
      entry = { name: info.systemName, evaluated: [] };
      perSystem.set(info.systemId, entry);
    }
    entry.evaluated.push({ info, points });
  }

  const data: TimeseriesAnswer["data"] = {};
  const clients: Record<string, string> = {};
  for (const [systemId, { name, evaluated }] of perSystem) {
    clients[systemId] = name;
    data[systemId] =
      query.aggregation === "raw"
        ? evaluated.map(({ info, points }) => ({
            metric: info.metricName,
            labels: info.labels,
            points: points.map(toWire),
          }))
        : aggregateAligned(
            evaluated.map((e) => e.points),
            query.aggregation,
          ).map(toWire);
  }

  return {
    data,
    clients,
    time_range: { start: query.since / 1000, end: query.until / 1000 },
    metric: query.metricText,
    aggregation: query.aggregation,
    unit: rate ? (query.fn === "increase" ? "increase" : "rate") : "",
    step: query.step / 1000,
    source: plan.source,
    ...(rate
      ? { rate_window_minutes: plan.window / 60_000, function: query.fn, window_seconds: plan.window / 1000 }
      : {}),
    ...(query.stepRaisedFrom === undefined ? {} : { step_raised_from: query.stepRaisedFrom / 1000 }),
  };
}

function toWire(s: Sample) {
  return { timestamp: s.t / 1000, value: s.v };
}

/**
 * Samples per series with plan.from < t ≤ until. From a rollup row a counter contributes its last raw sample
 * (last_ts, last) and a gauge its bucket average at the bucket start. Points newer than a series' last rollup (the
 * buckets the rollup job has not reached yet) come from the raw table, so recent data is never missing.
 */
async function readSamples(
  db: Kysely<DB>,
  series: SeriesInfo[],
  plan: SourcePlan,
  until: number,
  counters: boolean,
): Promise<Map<number, Sample[]>> {
  const ids = series.map((s) => s.id);
  if (ids.length === 0) return new Map();
  if (plan.source === "raw") return readPoints(db, ids, plan.from, until);

  const resolution = RESOLUTION_MS[plan.source];
  const rollups = await readRollups(db, ids, resolution / 1000, plan.from - resolution, until);
  const out = new Map<number, Sample[]>();
  const tailFrom = new Map<number, number>();
  let earliestTail = until;
  for (const id of ids) {
    const rows = rollups.get(id) ?? [];
    const samples: Sample[] = [];
    for (const row of rows) {
      const sample = counters ? { t: row.last_ts, v: row.last } : { t: row.bucket, v: row.sum / row.count };
      if (sample.t > plan.from && sample.t <= until) samples.push(sample);
    }
    out.set(id, samples);
    const last = rows[rows.length - 1] as RollupRow | undefined;
    const from = last ? Math.max(last.last_ts, plan.from) : plan.from;
    tailFrom.set(id, from);
    if (from < earliestTail) earliestTail = from;
  }
  if (earliestTail < until) {
    const tail = await readPoints(db, ids, earliestTail, until);
    for (const [id, points] of tail) {
      const from = tailFrom.get(id) as number;
      const samples = out.get(id) as Sample[];
      for (const p of points) if (p.t > from) samples.push(p);
    }
  }
  return out;
}

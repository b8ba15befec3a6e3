/**
 * The query string of `GET /api/timeseries/{metrics}[/rate]`, checked and turned into milliseconds. Pure: every
 * problem is reported as a message naming the parameter.
 */
import { parseDuration } from "../lib/duration.js";
import type { Aggregation } from "./grid.js";
import { type LabelFilter, metricNameProblem, parseLabelFilter } from "./labels.js";
import type { RangeFunction } from "./rate.js";

/** Server-side downsampling: no series in an answer has more grid points than this. */
export const MAX_POINTS = 2000;
/** The default step is never finer than this; agents push every 30 s by default. */
export const MIN_DEFAULT_STEP_SECONDS = 10;
export const DEFAULT_RANGE_SECONDS = 3600;
export const DEFAULT_WINDOW_MS = 5 * 60_000;
const MAX_METRICS = 20;
const MAX_SYSTEMS = 1000;
const MAX_WINDOW_MS = 400 * 86_400_000;

export interface TimeseriesQuery {
  metrics: string[];
  /** The metrics path segment as given (dcmon echoes it back). */
  metricText: string;
  since: number;
  until: number;
  step: number;
  /** The step asked for, in ms, when it was raised to keep the answer within MAX_POINTS. */
  stepRaisedFrom?: number;
  aggregation: Aggregation | "raw";
  systems?: string[];
  labels: LabelFilter;
  fn: RangeFunction;
  window: number;
}

export type RawQuery = Record<string, string | undefined>;

export class QueryParamError extends Error {}

function fail(message: string): never {
  throw new QueryParamError(message);
}

function unixSeconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`${name} must be unix seconds, got "${value}"`);
  return Math.round(n * 1000);
}

/** Durations as Prometheus writes them (30s, 5m, 1h30m, 2d, 1w) or plain seconds. */
export function parseWindow(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const days = /^(\d+)([dw])(.*)$/.exec(trimmed);
  if (days) {
    const base = Number(days[1]) * (days[2] === "w" ? 7 : 1) * 86_400_000;
    if (days[3] === "") return base;
    const rest = parseDuration(days[3] as string);
    return rest === undefined ? undefined : base + rest;
  }
  return parseDuration(trimmed);
}

export function parseTimeseriesQuery(
  metricText: string,
  raw: RawQuery,
  options: { rate: boolean; now: number },
): TimeseriesQuery {
  const metrics = [...new Set(metricText.split(",").map((m) => m.trim()))];
  if (metrics.length > MAX_METRICS) fail(`metrics: at most ${MAX_METRICS} metric names per query`);
  for (const name of metrics) {
    const problem = metricNameProblem(name);
    if (problem) fail(`metrics: ${problem}`);
  }

  const until = unixSeconds(raw.until, "until") ?? Math.floor(options.now / 1000) * 1000;
  const since = unixSeconds(raw.since, "since") ?? until - DEFAULT_RANGE_SECONDS * 1000;
  if (since > until) fail("since must not be after until");
  const range = until - since;

  let step: number;
  let stepRaisedFrom: number | undefined;
  const fitting = Math.ceil(range / (MAX_POINTS - 1) / 1000) * 1000;
  if (raw.step === undefined || raw.step === "") {
    step = Math.max(MIN_DEFAULT_STEP_SECONDS * 1000, fitting);
  } else {
    const seconds = Number(raw.step);
    if (!Number.isFinite(seconds) || seconds <= 0) fail(`step must be a positive number of seconds, got "${raw.step}"`);
    step = Math.max(1, Math.round(seconds * 1000));
    if (Math.floor(range / step) + 1 > MAX_POINTS) {
      stepRaisedFrom = step;
      step = fitting;
    }
  }

  const aggregation = raw.aggregation ?? (options.rate ? "sum" : "max");
  if (!["sum", "avg", "min", "max", "raw"].includes(aggregation)) {
    fail(`aggregation must be sum, avg, min, max or raw, got "${aggregation}"`);
  }

  let systems: string[] | undefined;
  if (raw.systems !== undefined && raw.systems.trim() !== "") {
    systems = [...new Set(raw.systems.split(",").map((s) => s.trim()))];
    if (systems.some((s) => s === "")) fail("systems must be a comma-separated list of system ids");
    if (systems.length > MAX_SYSTEMS) fail(`systems: at most ${MAX_SYSTEMS} ids`);
  }

  const labels = parseLabelFilter(raw.labels ?? "");
  if ("problem" in labels) fail(labels.problem);

  if (!options.rate && (raw.window !== undefined || raw.fn !== undefined)) {
    fail("window and fn apply to /api/timeseries/{metrics}/rate only");
  }
  const fn = raw.fn ?? "rate";
  if (fn !== "rate" && fn !== "increase" && fn !== "irate") fail(`fn must be rate, increase or irate, got "${fn}"`);
  let window = DEFAULT_WINDOW_MS;
  if (raw.window !== undefined) {
    const parsed = parseWindow(raw.window);
    if (parsed === undefined || !(parsed > 0) || parsed > MAX_WINDOW_MS) {
      fail(`window must be a duration such as 5m, 1h or 300 (seconds) up to 400d, got "${raw.window}"`);
    }
    window = Math.round(parsed);
  }

  return {
    metrics,
    metricText,
    since,
    until,
    step,
    ...(stepRaisedFrom === undefined ? {} : { stepRaisedFrom }),
    aggregation: aggregation as Aggregation | "raw",
    ...(systems ? { systems } : {}),
    labels,
    fn,
    window,
  };
}

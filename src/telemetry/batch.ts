/**
 * Validation of one `POST /api/metrics` body (dcmon's wire format). Every row is checked on its own: a bad row is
 * named with its index and reason and the good rows go on, unlike dcmon, which drops the whole batch. Pure: no I/O.
 */
import { canonicalLabels, metricNameProblem } from "./labels.js";

export const SEVERITIES = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const MAX_LOG_SOURCE_LENGTH = 64;
export const MAX_LOG_CONTENT_LENGTH = 65_536;

export interface BatchLimits {
  now: number;
  maxFutureMs: number;
  metricsMaxAgeMs: number;
  logsMaxAgeMs: number;
  maxRows: number;
}

export interface Rejection {
  index: number;
  reason: string;
}

/** Accepted metric rows as parallel arrays, in the order they came: one small array each instead of N objects. */
export interface AcceptedMetrics {
  index: number[];
  name: string[];
  labels: string[];
  ts: number[];
  value: number[];
}

export interface AcceptedLog {
  source: string;
  ts: number;
  severity: Severity | null;
  content: string;
}

export interface ValidatedBatch {
  received: number;
  metrics: AcceptedMetrics;
  rejected: Rejection[];
  logsReceived: number;
  logs: AcceptedLog[];
  logsRejected: Rejection[];
  hwHash: string | null;
}

/** The whole body is unusable (not the wire format, or too large): no row is stored. */
export class BatchRefused extends Error {
  constructor(
    readonly status: 400 | 413,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function validateBatch(body: unknown, limits: BatchLimits): ValidatedBatch {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BatchRefused(400, "invalid_request", "the body must be a JSON object with a metrics array");
  }
  const { metrics, logs, hw_hash } = body as Record<string, unknown>;
  if (!Array.isArray(metrics)) throw new BatchRefused(400, "invalid_request", "metrics must be an array");
  if (logs !== undefined && logs !== null && !Array.isArray(logs)) {
    throw new BatchRefused(400, "invalid_request", "logs must be an array or null");
  }
  if (hw_hash !== undefined && hw_hash !== null && typeof hw_hash !== "string") {
    throw new BatchRefused(400, "invalid_request", "hw_hash must be a string or null");
  }
  const logRows: unknown[] = logs ?? [];
  const rows = metrics.length + logRows.length;
  if (rows > limits.maxRows) {
    throw new BatchRefused(
      413,
      "payload_too_large",
      `the batch holds ${rows} metric and log rows; telemetry.max_rows_per_batch is ${limits.maxRows}`,
    );
  }

  const accepted: AcceptedMetrics = { index: [], name: [], labels: [], ts: [], value: [] };
  const rejected: Rejection[] = [];
  const newest = limits.now + limits.maxFutureMs;
  const oldestMetric = limits.now - limits.metricsMaxAgeMs;
  for (let i = 0; i < metrics.length; i++) {
    const row = metrics[i] as unknown;
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      rejected.push({ index: i, reason: "row must be an object" });
      continue;
    }
    const { metric_name, value, timestamp, labels } = row as Record<string, unknown>;
    const nameProblem = metricNameProblem(metric_name);
    if (nameProblem) {
      rejected.push({ index: i, reason: nameProblem });
      continue;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      rejected.push({ index: i, reason: "value must be a finite number" });
      continue;
    }
    const time = timeProblem(timestamp, "timestamp", newest, oldestMetric, limits, "telemetry.metrics_days");
    if (typeof time === "string") {
      rejected.push({ index: i, reason: time });
      continue;
    }
    const canonical = canonicalLabels(labels);
    if ("problem" in canonical) {
      rejected.push({ index: i, reason: canonical.problem });
      continue;
    }
    accepted.index.push(i);
    accepted.name.push(metric_name as string);
    accepted.labels.push(canonical.json);
    accepted.ts.push(time);
    accepted.value.push(value);
  }

  const acceptedLogs: AcceptedLog[] = [];
  const logsRejected: Rejection[] = [];
  const oldestLog = limits.now - limits.logsMaxAgeMs;
  for (let i = 0; i < logRows.length; i++) {
    const row = logRows[i];
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      logsRejected.push({ index: i, reason: "row must be an object" });
      continue;
    }
    const { log_source, log_timestamp, content, severity } = row as Record<string, unknown>;
    if (typeof log_source !== "string" || log_source.length === 0 || log_source.length > MAX_LOG_SOURCE_LENGTH) {
      logsRejected.push({
        index: i,
        reason: `log_source must be a string of 1 to ${MAX_LOG_SOURCE_LENGTH} characters`,
      });
      continue;
    }
    const time = timeProblem(log_timestamp, "log_timestamp", newest, oldestLog, limits, "telemetry.logs_days");
    if (typeof time === "string") {
      logsRejected.push({ index: i, reason: time });
      continue;
    }
    if (typeof content !== "string" || content.length === 0 || content.length > MAX_LOG_CONTENT_LENGTH) {
      logsRejected.push({
        index: i,
        reason: `content must be a string of 1 to ${MAX_LOG_CONTENT_LENGTH} characters`,
      });
      continue;
    }
    if (severity !== undefined && severity !== null && !SEVERITIES.includes(severity as Severity)) {
      logsRejected.push({ index: i, reason: `severity must be one of ${SEVERITIES.join(", ")} or null` });
      continue;
    }
    acceptedLogs.push({ source: log_source, ts: time, severity: (severity as Severity | undefined) ?? null, content });
  }

  return {
    received: metrics.length,
    metrics: accepted,
    rejected,
    logsReceived: logRows.length,
    logs: acceptedLogs,
    logsRejected,
    hwHash: (hw_hash as string | null | undefined) ?? null,
  };
}

/** Unix seconds (fractions kept to the millisecond) → unix milliseconds, or why the time is refused. */
function timeProblem(
  value: unknown,
  field: string,
  newest: number,
  oldest: number,
  limits: BatchLimits,
  retentionSetting: string,
): number | string {
  if (typeof value !== "number" || !Number.isFinite(value)) return `${field} must be unix seconds (a number)`;
  const ms = Math.round(value * 1000);
  if (ms > newest) {
    return `${field} ${value} is ${Math.round((ms - limits.now) / 1000)} s in the future (at most ${limits.maxFutureMs / 1000} s allowed)`;
  }
  if (ms < oldest) return `${field} ${value} is older than ${retentionSetting} allows`;
  return ms;
}

/** One sample in the dcmon wire format of `POST /api/metrics`. */
export interface MetricRow {
  timestamp: number;
  metric_name: string;
  value: number;
  labels: Record<string, string> | null;
}

export type Severity = "ERROR" | "WARN" | "INFO" | "DEBUG";

export interface LogRow {
  log_source: string;
  log_timestamp: number;
  content: string;
  severity: Severity | null;
}

/** A metric collector. `probe` runs once at start; a false answer disables the exporter for the process lifetime. */
export interface Exporter {
  readonly name: string;
  probe(): Promise<ProbeResult>;
  /** `warnings` name parts that failed while others still produced rows (one of several disks, one container). */
  collect(now: number): Promise<{ metrics: MetricRow[]; warnings?: string[] }>;
}

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/**
 * A log source reads lines after its cursor without moving it: the agent commits the returned cursor only once the
 * server acknowledged the batch carrying those lines, so a failed push reads the same lines again.
 */
export interface LogSource {
  readonly name: string;
  probe(): Promise<ProbeResult>;
  read(cursor: string | undefined, limit: number): Promise<{ logs: LogRow[]; cursor: string | undefined }>;
}

export function metric(
  timestamp: number,
  name: string,
  value: number,
  labels: Record<string, string> | null = null,
): MetricRow {
  return { timestamp, metric_name: name, value, labels };
}

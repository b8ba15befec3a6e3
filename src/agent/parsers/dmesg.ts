import type { LogRow } from "../types.js";
import { severityOfPriority } from "./severity.js";

const LEVELS: Record<string, number> = { emerg: 0, alert: 1, crit: 2, err: 3, warn: 4, notice: 5, info: 6, debug: 7 };

// `dmesg -x --time-format iso`: "kern  :info  : 2024-05-02T10:15:32,123456+00:00 message" — facility and level
// padded to six characters, then the time with a comma before the microseconds.
const RECORD = /^(\w+)\s*:(\w+)\s*: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)[,.](\d{6})([+-]\d\d:?\d\d|Z) ?(.*)$/;

export interface DmesgRecords {
  logs: LogRow[];
  /** Microseconds since the epoch of the last record taken, as a decimal string. */
  cursor: string | undefined;
}

/**
 * Records strictly after `cursor` (kernel time, microseconds), at most `limit`. Lines without the record prefix are
 * continuations of a multi-line kernel message and join the record before them.
 */
export function parseDmesg(output: string, cursor: string | undefined, limit: number): DmesgRecords {
  const after = cursor === undefined ? -1n : BigInt(cursor);
  const logs: LogRow[] = [];
  let last: bigint | undefined;
  let current: LogRow | undefined;
  for (const line of output.split("\n")) {
    const m = RECORD.exec(line);
    if (!m) {
      if (current && line.trim()) current.content += `\n${line.trim()}`;
      continue;
    }
    current = undefined;
    const [, , level, seconds, micros, zone, message] = m as unknown as string[];
    const epochSeconds = Date.parse(`${seconds}${zone === "Z" ? "Z" : zone}`) / 1000;
    if (!Number.isFinite(epochSeconds)) continue;
    const at = BigInt(epochSeconds) * 1_000_000n + BigInt(micros as string);
    if (at <= after) continue;
    if (logs.length >= limit) break;
    current = {
      log_source: "dmesg",
      log_timestamp: epochSeconds + Number(micros) / 1e6,
      content: message ?? "",
      severity: severityOfPriority(LEVELS[level as string] ?? -1),
    };
    logs.push(current);
    last = at;
  }
  return { logs, cursor: last === undefined ? cursor : last.toString() };
}

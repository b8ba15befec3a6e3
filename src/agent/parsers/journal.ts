import type { LogRow } from "../types.js";
import { severityOfPriority } from "./severity.js";

export interface JournalEntries {
  logs: LogRow[];
  /** `__CURSOR` of the last entry taken, to resume with `--after-cursor`. */
  cursor: string | undefined;
}

/** journald gives non-UTF-8 messages as an array of bytes instead of a string. */
function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((b) => typeof b === "number")) return Buffer.from(value).toString("utf8");
  return undefined;
}

/**
 * Parses `journalctl --output=json` (one JSON object per line), taking at most `limit` entries. Lines that are not
 * journal entries are skipped; an entry without a message still moves the cursor so it is not read again.
 */
export function parseJournal(output: string, limit: number): JournalEntries {
  const logs: LogRow[] = [];
  let cursor: string | undefined;
  for (const line of output.split("\n")) {
    if (logs.length >= limit) break;
    if (!line.startsWith("{")) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof entry.__CURSOR !== "string") continue;
    cursor = entry.__CURSOR;
    const message = text(entry.MESSAGE);
    const micros = Number(entry.__REALTIME_TIMESTAMP);
    if (message === undefined || !Number.isFinite(micros)) continue;
    const identifier = text(entry.SYSLOG_IDENTIFIER) ?? text(entry._COMM);
    const pid = text(entry.SYSLOG_PID) ?? text(entry._PID);
    const prefix = identifier ? `${identifier}${pid ? `[${pid}]` : ""}: ` : "";
    logs.push({
      log_source: "journal",
      log_timestamp: micros / 1e6,
      content: prefix + message,
      severity: entry.PRIORITY === undefined ? null : severityOfPriority(Number(entry.PRIORITY)),
    });
  }
  return { logs, cursor };
}

/** Search over stored log lines, newest first, paged by a cursor on (time, id). */
import { type Kysely, sql } from "kysely";
import type { DB } from "../db/types.js";
import { SEVERITIES, type Severity } from "./batch.js";

export interface LogSearch {
  systems?: string[] | undefined;
  sources?: string[] | undefined;
  /** Minimum severity: WARN returns WARN and ERROR; lines without a severity are left out. */
  severity?: Severity | undefined;
  /** Case-insensitive substring of the content; %, _ and \ match themselves. */
  text?: string | undefined;
  /** Unix ms, inclusive. */
  since?: number | undefined;
  /** Unix ms, inclusive. */
  until?: number | undefined;
  limit: number;
  /** Continue after this entry: the next page holds only entries older than it (ties broken by smaller id). */
  beforeId?: number | undefined;
}

export interface LogLine {
  id: number;
  system_id: string;
  source: string;
  /** Unix seconds with milliseconds. */
  ts: number;
  severity: string | null;
  content: string;
}

export interface LogPage {
  logs: LogLine[];
  /** Pass as before_id for the next page; null when this page is the last. */
  next_before_id: number | null;
}

export function severitiesFrom(minimum: Severity): Severity[] {
  return SEVERITIES.slice(SEVERITIES.indexOf(minimum));
}

/** LIKE pattern for a literal substring, with `\` as the escape character. */
export function likeSubstring(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function searchLogs(db: Kysely<DB>, search: LogSearch): Promise<LogPage> {
  let query = db
    .selectFrom("log_entries")
    .select(["id", "system_id", "source", "ts", "severity", "content"])
    .orderBy("ts", "desc")
    .orderBy("id", "desc")
    .limit(search.limit + 1);
  if (search.systems) query = query.where("system_id", "in", search.systems);
  if (search.sources) query = query.where("source", "in", search.sources);
  if (search.severity) query = query.where("severity", "in", severitiesFrom(search.severity));
  if (search.since !== undefined) query = query.where("ts", ">=", search.since);
  if (search.until !== undefined) query = query.where("ts", "<=", search.until);
  if (search.text) {
    const pattern = likeSubstring(search.text);
    // SQLite's LIKE has no escape character unless one is named; PostgreSQL's default is the same backslash.
    query = query.where(sql<boolean>`lower(content) like ${pattern} escape '\\'`);
  }
  if (search.beforeId !== undefined) {
    const cursor = await db
      .selectFrom("log_entries")
      .select(["ts", "id"])
      .where("id", "=", search.beforeId)
      .executeTakeFirst();
    if (!cursor) return { logs: [], next_before_id: null };
    const ts = Number(cursor.ts);
    query = query.where((eb) => eb.or([eb("ts", "<", ts), eb.and([eb("ts", "=", ts), eb("id", "<", cursor.id)])]));
  }
  const rows = await query.execute();
  const more = rows.length > search.limit;
  const page = more ? rows.slice(0, search.limit) : rows;
  return {
    logs: page.map((r) => ({
      id: Number(r.id),
      system_id: r.system_id,
      source: r.source,
      ts: Number(r.ts) / 1000,
      severity: r.severity,
      content: r.content,
    })),
    next_before_id: more ? Number((page[page.length - 1] as { id: number }).id) : null,
  };
}

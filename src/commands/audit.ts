import type { Kysely } from "kysely";
import type { AuditLogTable, DB } from "../db/types.js";
import { iso } from "../lib/time.js";

export type AuditOutcome = AuditLogTable["outcome"];

export interface AuditRecord {
  actor: string;
  action: string;
  system_id: string | null;
  detail: Record<string, unknown>;
  outcome: AuditOutcome;
  /** The agent's answer, or `{error}` saying why there is none; stored as JSON. */
  result: Record<string, unknown> | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  system_id: string | null;
  detail: unknown;
  outcome: AuditOutcome;
  result: unknown;
}

export interface AuditFilter {
  system_id?: string | undefined;
  action?: string | undefined;
  limit: number;
  /** Only entries older than this id: the `next_before_id` of the previous page. */
  before_id?: number | undefined;
}

export interface AuditPage {
  entries: AuditEntry[];
  next_before_id: number | null;
}

export async function writeAudit(db: Kysely<DB>, record: AuditRecord, now = new Date()): Promise<number> {
  const row = await db
    .insertInto("audit_log")
    .values({
      at: iso(now),
      actor: record.actor,
      action: record.action,
      system_id: record.system_id,
      detail: JSON.stringify(record.detail),
      outcome: record.outcome,
      result: record.result === null ? null : JSON.stringify(record.result),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

// The column allows plain error text too (the table predates this writer); such a value is returned as a string.
function parseStored(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Newest first, paged by id so a page stays stable while new entries arrive. */
export async function listAudit(db: Kysely<DB>, filter: AuditFilter): Promise<AuditPage> {
  let query = db
    .selectFrom("audit_log")
    .select(["id", "at", "actor", "action", "system_id", "detail", "outcome", "result"])
    .orderBy("id", "desc")
    .limit(filter.limit + 1);
  if (filter.system_id !== undefined) query = query.where("system_id", "=", filter.system_id);
  if (filter.action !== undefined) query = query.where("action", "=", filter.action);
  if (filter.before_id !== undefined) query = query.where("id", "<", filter.before_id);
  const rows = await query.execute();
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    entries: page.map((row) => ({
      ...row,
      id: Number(row.id),
      detail: parseStored(row.detail),
      result: parseStored(row.result),
    })),
    next_before_id: rows.length > filter.limit && last ? Number(last.id) : null,
  };
}

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { parseIsoTime } from "../lib/time.js";
import { type IngestDeps, ingestBatch, prepareDocument } from "./ingest.js";

/** Lines written per transaction. */
const IMPORT_BATCH = 256;

export class ImportError extends Error {
  override name = "ImportError";
}

interface ImportLine {
  system_key: string;
  received_at: Date;
  data: unknown;
  line: number;
}

export interface ImportResult {
  records: number;
  duplicates: number;
}

/** Reads a history file: one `{"system_key","received_at","data"}` object per line; blank lines are skipped. */
export async function readImportFile(file: string): Promise<ImportLine[]> {
  const lines: ImportLine[] = [];
  let number = 0;
  const reader = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of reader) {
    number++;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ImportError(`line ${number}: not JSON (${(err as Error).message})`);
    }
    const entry = value as { system_key?: unknown; received_at?: unknown; data?: unknown };
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new ImportError(`line ${number}: expected an object`);
    }
    if (typeof entry.system_key !== "string") throw new ImportError(`line ${number}: system_key must be a string`);
    const at = typeof entry.received_at === "string" ? parseIsoTime(entry.received_at) : undefined;
    if (!at) throw new ImportError(`line ${number}: received_at must be an ISO-8601 time`);
    if (typeof entry.data !== "object" || entry.data === null || Array.isArray(entry.data)) {
      throw new ImportError(`line ${number}: data must be an object`);
    }
    lines.push({ system_key: entry.system_key, received_at: at, data: entry.data, line: number });
  }
  return lines;
}

/**
 * Feeds history through the normal ingest path in time order, as if each document had arrived at its
 * received_at; the caller drains the diff queue afterwards. Unknown system keys stop the import before anything
 * is written.
 */
export async function importHistory(
  deps: IngestDeps & { db: Kysely<DB> },
  lines: ImportLine[],
  onProgress?: (done: number, total: number) => void,
): Promise<ImportResult> {
  const keys = [...new Set(lines.map((l) => l.system_key))];
  const systems =
    keys.length === 0
      ? []
      : await deps.db.selectFrom("systems").select(["id", "system_key"]).where("system_key", "in", keys).execute();
  const idByKey = new Map(systems.map((s) => [s.system_key, s.id]));
  const missing = keys.filter((k) => !idByKey.has(k));
  if (missing.length > 0) throw new ImportError(`unknown system_key: ${missing.join(", ")}`);
  const ordered = [...lines].sort((a, b) => a.received_at.getTime() - b.received_at.getTime() || a.line - b.line);
  let records = 0;
  let duplicates = 0;
  // In time order, a slice per transaction: the same group commit and one diff job per slice as pushed documents.
  for (let i = 0; i < ordered.length; i += IMPORT_BATCH) {
    const slice = ordered.slice(i, i + IMPORT_BATCH);
    const results = await ingestBatch(
      deps,
      slice.map((entry) => prepareDocument(idByKey.get(entry.system_key) as string, entry.data, entry.received_at)),
    );
    for (const result of results) {
      if (result.duplicate) duplicates++;
      else records++;
    }
    onProgress?.(i + slice.length, ordered.length);
  }
  return { records, duplicates };
}

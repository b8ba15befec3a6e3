import { CompiledQuery, type Kysely, type Transaction } from "kysely";
import type { Dialect } from "../db/connect.js";
import type { DB } from "../db/types.js";
import { GroupCommit } from "../lib/group-commit.js";
import { iso } from "../lib/time.js";
import type { Rejection, ValidatedBatch } from "./batch.js";
import { SeriesCache } from "./series-cache.js";

export interface IngestOptions {
  db: Kysely<DB>;
  dialect: Dialect;
  maxSeriesPerSystem: number;
  cache?: SeriesCache;
  /** How often one system's agent_clients.last_seen_at is written at most. */
  lastSeenIntervalMs?: number;
  /** Metric rows one group commit may hold; a larger single batch is still written alone. */
  maxGroupRows?: number;
}

export interface IngestResult {
  inserted: number;
  rejected: Rejection[];
  logsInserted: number;
  seriesCreated: number;
}

interface Pending {
  systemId: string;
  batch: ValidatedBatch;
  now: number;
}

interface NewSeries {
  systemId: string;
  name: string;
  labels: string;
  id: number;
}

interface LastSeen {
  at: number;
  hwHash: string | null;
}

/** What a group transaction learned, applied to the in-memory state only once it committed. */
interface Done {
  series: NewSeries[];
  seen: Map<string, LastSeen>;
}

interface ResolvedSeries {
  /** Series id by `name \u0001 labels` of the batch's system. */
  ids: Map<string, number>;
  /** Found or created series to cache once the transaction committed. */
  remember: NewSeries[];
  created: number;
  refusedReason?: string;
}

// Placeholders per statement stay far below both limits (SQLite 32766, PostgreSQL 65535).
const MAX_POINT_CHUNK = 1024;
const LOG_CHUNK = 1000;
const SERIES_CHUNK = 1000;

/**
 * Writes validated metric batches: series resolved in bulk (cache first, then one select and one insert for the
 * misses), points upserted with multi-row statements, every batch committed before its caller answers. A point
 * resent with the same series and millisecond overwrites the stored one, so a retried batch never duplicates.
 *
 * Group commit: batches arriving while a transaction is being written wait for the next one, so under load one
 * commit acknowledges many batches and a lone batch is written at once.
 */
export class TelemetryIngest {
  readonly cache: SeriesCache;
  private readonly lastSeen = new Map<string, LastSeen>();
  private readonly insertSql = new Map<number, string>();
  private readonly lastSeenIntervalMs: number;
  private readonly group: GroupCommit<Pending, IngestResult>;

  constructor(private readonly options: IngestOptions) {
    this.cache = options.cache ?? new SeriesCache();
    this.lastSeenIntervalMs = options.lastSeenIntervalMs ?? 30_000;
    const maxGroupRows = options.maxGroupRows ?? 20_000;
    this.group = new GroupCommit(
      (group) => this.commit(group),
      (waiting) => {
        let rows = 0;
        let take = 0;
        while (take < waiting.length && (take === 0 || rows < maxGroupRows)) {
          rows += (waiting[take] as Pending).batch.metrics.ts.length;
          take++;
        }
        return take;
      },
    );
  }

  write(systemId: string, batch: ValidatedBatch, now: number): Promise<IngestResult> {
    return this.group.submit({ systemId, batch, now });
  }

  private async commit(group: Pending[]): Promise<IngestResult[]> {
    const done: Done = { series: [], seen: new Map() };
    const results = await this.options.db.transaction().execute(async (trx) => {
      const out: IngestResult[] = [];
      for (const p of group) out.push(await this.writeOne(trx, p, done));
      return out;
    });
    // Only what committed may be remembered: a rolled-back series id would send later points to no series.
    for (const s of done.series) this.cache.set(s.systemId, s.name, s.labels, s.id);
    for (const [systemId, seen] of done.seen) this.lastSeen.set(systemId, seen);
    return results;
  }

  private async writeOne(trx: Transaction<DB>, pending: Pending, done: Done): Promise<IngestResult> {
    const { systemId, batch, now } = pending;
    const { metrics } = batch;
    const count = metrics.ts.length;
    const seriesIds = new Array<number | undefined>(count);
    let misses: number[] | undefined;
    for (let i = 0; i < count; i++) {
      const id = this.cache.get(systemId, metrics.name[i] as string, metrics.labels[i] as string);
      if (id === undefined) {
        misses ??= [];
        misses.push(i);
      } else seriesIds[i] = id;
    }

    let resolved: ResolvedSeries | undefined;
    if (misses) {
      resolved = await this.resolveSeries(trx, systemId, batch, misses, now);
      done.series.push(...resolved.remember);
      for (const i of misses) seriesIds[i] = resolved.ids.get(`${metrics.name[i]}\u0001${metrics.labels[i]}`);
    }

    const rejected = batch.rejected.slice();
    const params: number[] = [];
    // Two rows of one series at one millisecond would make a PostgreSQL upsert fail; the later row wins, as it
    // would have if the two had come in separate batches.
    const lastTs = new Map<number, number>();
    let seen: Map<number, Map<number, number>> | undefined;
    const kept: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = seriesIds[i];
      if (id === undefined) {
        rejected.push({
          index: metrics.index[i] as number,
          reason: resolved?.refusedReason ?? "series could not be created",
        });
        continue;
      }
      const ts = metrics.ts[i] as number;
      const previous = lastTs.get(id);
      if (previous === undefined || ts > previous) {
        lastTs.set(id, ts);
      } else {
        seen ??= collectSeen(seriesIds, metrics.ts, kept);
        const earlier = seen.get(id)?.get(ts);
        if (earlier !== undefined) {
          rejected.push({
            index: metrics.index[earlier] as number,
            reason: `same series and timestamp as row ${metrics.index[i]}, which replaces it`,
          });
          const at = kept.indexOf(earlier);
          params.splice(at * 3, 3);
          kept.splice(at, 1);
        }
      }
      if (seen) addSeen(seen, id, ts, i);
      kept.push(i);
      params.push(id, ts, metrics.value[i] as number);
    }
    await this.insertPoints(trx, params);
    const logsInserted = await this.insertLogs(trx, systemId, batch, now);
    await this.touchClient(trx, systemId, batch.hwHash, now, done);
    rejected.sort((a, b) => a.index - b.index);
    return { inserted: kept.length, rejected, logsInserted, seriesCreated: resolved?.created ?? 0 };
  }

  /** Looks up the missing series with one query, creates the absent ones up to the per-system limit. */
  private async resolveSeries(
    trx: Transaction<DB>,
    systemId: string,
    batch: ValidatedBatch,
    misses: number[],
    now: number,
  ): Promise<ResolvedSeries> {
    const { metrics } = batch;
    const wanted = new Map<string, number>();
    for (const i of misses) wanted.set(`${metrics.name[i]}\u0001${metrics.labels[i]}`, i);
    const names = [...new Set(misses.map((i) => metrics.name[i] as string))];
    const ids = await this.selectSeries(trx, systemId, names);
    const known: NewSeries[] = [];
    for (const [key, i] of wanted) {
      const id = ids.get(key);
      if (id !== undefined)
        known.push({ systemId, name: metrics.name[i] as string, labels: metrics.labels[i] as string, id });
    }
    const absent = [...wanted.entries()].filter(([key]) => !ids.has(key));
    if (absent.length === 0) return { ids, remember: known, created: 0 };

    // Serialises series creation per system on PostgreSQL, so two concurrent batches cannot both pass the limit.
    if (this.options.dialect === "postgres") {
      await trx.selectFrom("systems").select("id").where("id", "=", systemId).forUpdate().execute();
    }
    const row = await trx
      .selectFrom("metric_series")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("system_id", "=", systemId)
      .executeTakeFirstOrThrow();
    const room = Math.max(0, this.options.maxSeriesPerSystem - Number(row.n));
    const create = absent.slice(0, room);
    const createdAt = iso(now);
    for (let start = 0; start < create.length; start += SERIES_CHUNK) {
      await trx
        .insertInto("metric_series")
        .values(
          create.slice(start, start + SERIES_CHUNK).map(([, i]) => ({
            system_id: systemId,
            metric_name: metrics.name[i] as string,
            labels: metrics.labels[i] as string,
            created_at: createdAt,
          })),
        )
        .onConflict((oc) => oc.columns(["system_id", "metric_name", "labels"]).doNothing())
        .execute();
    }
    const created: NewSeries[] = [];
    if (create.length > 0) {
      const after = await this.selectSeries(trx, systemId, [
        ...new Set(create.map(([, i]) => metrics.name[i] as string)),
      ]);
      for (const [key, i] of create) {
        const id = after.get(key);
        if (id === undefined) continue;
        ids.set(key, id);
        created.push({ systemId, name: metrics.name[i] as string, labels: metrics.labels[i] as string, id });
      }
    }
    return {
      ids,
      remember: [...known, ...created],
      created: created.length,
      ...(create.length === absent.length
        ? {}
        : {
            refusedReason: `system already has ${this.options.maxSeriesPerSystem} series (telemetry.max_series_per_system); new series are refused`,
          }),
    };
  }

  private async selectSeries(trx: Transaction<DB>, systemId: string, names: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (let start = 0; start < names.length; start += SERIES_CHUNK) {
      const rows = await trx
        .selectFrom("metric_series")
        .select(["id", "metric_name", "labels"])
        .where("system_id", "=", systemId)
        .where("metric_name", "in", names.slice(start, start + SERIES_CHUNK))
        .execute();
      for (const r of rows) found.set(`${r.metric_name}\u0001${r.labels}`, Number(r.id));
    }
    return found;
  }

  /**
   * Multi-row upserts in chunks of power-of-two sizes, so a handful of SQL texts (generated once by Kysely for the
   * dialect, then reused) cover every batch size and the prepared statements stay cached.
   */
  private async insertPoints(trx: Transaction<DB>, params: number[]): Promise<void> {
    let offset = 0;
    let remaining = params.length / 3;
    while (remaining > 0) {
      let rows = MAX_POINT_CHUNK;
      while (rows > remaining) rows >>= 1;
      await trx.executeQuery(
        CompiledQuery.raw(this.pointInsertSql(rows), params.slice(offset * 3, (offset + rows) * 3)),
      );
      offset += rows;
      remaining -= rows;
    }
  }

  private pointInsertSql(rows: number): string {
    let text = this.insertSql.get(rows);
    if (text === undefined) {
      text = this.options.db
        .insertInto("metric_points")
        .values(Array.from({ length: rows }, () => ({ series_id: 0, ts: 0, value: 0 })))
        .onConflict((oc) => oc.columns(["series_id", "ts"]).doUpdateSet({ value: (eb) => eb.ref("excluded.value") }))
        .compile().sql;
      this.insertSql.set(rows, text);
    }
    return text;
  }

  private async insertLogs(trx: Transaction<DB>, systemId: string, batch: ValidatedBatch, now: number) {
    const receivedAt = iso(now);
    for (let start = 0; start < batch.logs.length; start += LOG_CHUNK) {
      await trx
        .insertInto("log_entries")
        .values(
          batch.logs.slice(start, start + LOG_CHUNK).map((log) => ({
            system_id: systemId,
            source: log.source,
            ts: log.ts,
            severity: log.severity,
            content: log.content,
            received_at: receivedAt,
          })),
        )
        .execute();
    }
    return batch.logs.length;
  }

  /** last_seen_at is written at most every lastSeenIntervalMs per system, and at once when the hardware changed. */
  private async touchClient(trx: Transaction<DB>, systemId: string, hwHash: string | null, now: number, done: Done) {
    const previous = done.seen.get(systemId) ?? this.lastSeen.get(systemId);
    const hwChanged = hwHash !== null && hwHash !== previous?.hwHash;
    if (previous && !hwChanged && now - previous.at < this.lastSeenIntervalMs) return;
    await trx
      .updateTable("agent_clients")
      .set(hwHash === null ? { last_seen_at: iso(now) } : { last_seen_at: iso(now), hw_hash: hwHash })
      .where("system_id", "=", systemId)
      .execute();
    done.seen.set(systemId, { at: now, hwHash: hwHash ?? previous?.hwHash ?? null });
  }
}

/** Row positions by series and timestamp among the rows kept so far; built only once a batch repeats a series. */
function collectSeen(
  seriesIds: readonly (number | undefined)[],
  ts: readonly number[],
  kept: readonly number[],
): Map<number, Map<number, number>> {
  const seen = new Map<number, Map<number, number>>();
  for (const i of kept) addSeen(seen, seriesIds[i] as number, ts[i] as number, i);
  return seen;
}

function addSeen(seen: Map<number, Map<number, number>>, id: number, ts: number, row: number): void {
  let times = seen.get(id);
  if (!times) {
    times = new Map();
    seen.set(id, times);
  }
  times.set(ts, row);
}

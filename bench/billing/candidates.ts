import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { sql } from "kysely";
import { Money, roundMinor } from "../../src/billing/decimal.js";
import { priceIntervals, sumPrices } from "../../src/billing/pricing.js";
import {
  type BillingDeps,
  type BillLine,
  groupBill,
  indexEvent,
  loadEvents,
  monthRange,
  type OrgBill,
} from "../../src/cloudfoundry/billing.js";
import { type EventKind, normalizeEntity, resourceTransition, type UsageEvent } from "../../src/cloudfoundry/events.js";
import { cfEventStore } from "../../src/cloudfoundry/store.js";
import { round } from "../lib/stats.js";
import { measure, monthIntervals, pricingOptions, type Spent, spent, type Timing, timing } from "./bill.js";
import { type PricedTotals, priceIntervalsCandidate, priceTotals } from "./candidate-pricing.js";

/*
 * Evidence for the changes the bench proposes in src/: each candidate is a copy of the code monthlyBill runs with
 * one change, timed in alternation with the original on the same data, and its output hashed against the
 * original's so a speed-up cannot come from computing something else.
 */

export interface Candidate {
  name: string;
  /** What to change in src/. */
  change: string;
  original: Timing;
  candidate: Timing;
  /** original ÷ candidate, best against best, by wall and by CPU time. */
  speedup_best: number;
  speedup_best_cpu: number;
  same_output: boolean;
}

/** Where loadEvents + buildIntervals spend their time, each part timed alone. */
export interface LoadBreakdown {
  /** The SQL query and its rows, entities left as text. */
  rows: Timing;
  json_parse: Timing;
  /** normalizeEntity and resourceTransition, which indexEvent already ran for every event at ingest. */
  normalize: Timing;
  /**
   * JSON.parse of what normalizeEntity returns, serialized: what loading would cost if ingest stored the normalized
   * entity (fields in v2 names, nulls dropped) for billing to read instead of CF's raw resource.
   */
  normalized_parse: Timing;
  entity_bytes_mean: number;
  normalized_bytes_mean: number;
}

/** cfEventStore.store appending events to the full database, as syncOnce does page by page. */
export interface StoreVariant {
  name: string;
  events: number;
  events_per_transaction: number;
  /** SQLite's page cache for the connection, as PRAGMA cache_size gives it (negative: KiB). */
  cache_size: number;
  seconds: number;
  cpu_seconds: number;
  events_per_second: number;
  /** What the process wrote (WAL frames and checkpoints) and read through system calls, per event. */
  written_kb_per_event: number | null;
  read_kb_per_event: number | null;
}

export interface CandidatesResult {
  candidates: Candidate[];
  load: LoadBreakdown;
  store: StoreVariant[];
}

const hashOf = (items: Iterable<unknown>): string => {
  const hash = createHash("sha256");
  for (const item of items) hash.update(JSON.stringify(item));
  return hash.digest("hex");
};

/** loadEvents without ORDER BY: buildIntervals sorts every resource's events, and its output, by itself. */
async function loadEventsUnordered(deps: BillingDeps, until: string): Promise<UsageEvent[]> {
  const rows = await deps.db
    .selectFrom("cf_usage_events")
    .select(["id", "guid", "kind", "created_at", "entity"])
    .where("created_at", "<", until)
    .execute();
  return rows.map((r) => ({
    guid: r.guid,
    kind: r.kind,
    created_at: r.created_at,
    seq: r.id,
    entity: JSON.parse(r.entity) as Record<string, unknown>,
  }));
}

/** groupBill over Money totals instead of the string amounts of billable events. */
function groupTotals(priced: readonly PricedTotals[]): OrgBill[] {
  type Line = BillLine & { set: Set<string>; ex: Money; inc: Money };
  const orgs = new Map<string, { name: string; spaces: Map<string, { name: string; lines: Map<string, Line> }> }>();
  for (const p of priced) {
    const e = p.interval;
    const org = orgs.get(e.org_guid) ?? { name: e.org_name, spaces: new Map() };
    orgs.set(e.org_guid, org);
    const space = org.spaces.get(e.space_guid) ?? { name: e.space_name, lines: new Map() };
    org.spaces.set(e.space_guid, space);
    const key = `${e.plan_guid}\u0000${e.resource_type}`;
    const line = space.lines.get(key) ?? {
      plan_guid: e.plan_guid,
      plan_name: p.plan_name,
      resource_type: e.resource_type,
      resources: 0,
      ex_vat: "0",
      inc_vat: "0",
      set: new Set<string>(),
      ex: new Money(0),
      inc: new Money(0),
    };
    line.set.add(e.resource_guid);
    line.ex = line.ex.plus(p.ex_vat);
    line.inc = line.inc.plus(p.inc_vat);
    space.lines.set(key, line);
  }
  return [...orgs.entries()]
    .map(([org_guid, org]) => {
      let orgEx = new Money(0);
      let orgInc = new Money(0);
      const spaces = [...org.spaces.entries()]
        .map(([space_guid, space]) => {
          let ex = new Money(0);
          let inc = new Money(0);
          const lines = [...space.lines.values()]
            .map(({ set, ex: lineEx, inc: lineInc, ...line }) => {
              ex = ex.plus(lineEx);
              inc = inc.plus(lineInc);
              return { ...line, resources: set.size, ex_vat: lineEx.toFixed(), inc_vat: lineInc.toFixed() };
            })
            .sort((a, b) => a.plan_name.localeCompare(b.plan_name) || a.resource_type.localeCompare(b.resource_type));
          orgEx = orgEx.plus(ex);
          orgInc = orgInc.plus(inc);
          return { space_guid, space_name: space.name, ex_vat: roundMinor(ex), inc_vat: roundMinor(inc), lines };
        })
        .sort((a, b) => a.space_name.localeCompare(b.space_name));
      return { org_guid, org_name: org.name, ex_vat: roundMinor(orgEx), inc_vat: roundMinor(orgInc), spaces };
    })
    .sort((a, b) => a.org_name.localeCompare(b.org_name));
}

type Runs = { original: Spent[]; copy: Spent[] };

function candidate(name: string, change: string, runs: Runs, sameOutput: boolean): Candidate {
  const o = timing(runs.original);
  const c = timing(runs.copy);
  return {
    name,
    change,
    original: o,
    candidate: c,
    speedup_best: round(o.best_s / Math.max(c.best_s, 1e-9), 2),
    speedup_best_cpu: round(o.best_cpu_s / Math.max(c.best_cpu_s, 1e-9), 2),
    same_output: sameOutput,
  };
}

export async function benchCandidates(
  deps: BillingDeps,
  month: string,
  runs: number,
  log: (line: string) => void,
): Promise<CandidatesResult> {
  const range = monthRange(month);
  const options = pricingOptions(deps.settings, range, () => undefined);
  const candidates: Candidate[] = [];

  log("candidates: loadEvents without ORDER BY");
  const loads: Runs = { original: [], copy: [] };
  let sameIntervals = true;
  for (let run = 0; run < runs; run++) {
    const original = await measure(() => loadEvents(deps.db, undefined, range.stop));
    loads.original.push(spent(original));
    const originalHash = hashOf(monthIntervals(deps.settings, range, original.value));
    original.value.length = 0;
    const copy = await measure(() => loadEventsUnordered(deps, range.stop));
    loads.copy.push(spent(copy));
    sameIntervals &&= hashOf(monthIntervals(deps.settings, range, copy.value)) === originalHash;
    copy.value.length = 0;
  }
  candidates.push(
    candidate(
      "loadEvents without ORDER BY",
      "src/cloudfoundry/billing.ts loadEvents: drop .orderBy('created_at').orderBy('id') — its one caller, " +
        "buildIntervals, sorts each resource's events by (created_at, seq) and its output by itself, so SQLite's " +
        "temporary B-tree sort of every row with its entity buys nothing",
      loads,
      sameIntervals,
    ),
  );

  log("candidates: where loading and interval building go");
  const breakdown = { rows: [] as Spent[], parse: [] as Spent[], normalize: [] as Spent[], normalized: [] as Spent[] };
  let entityBytes = 0;
  let normalizedBytes = 0;
  for (let run = 0; run < runs; run++) {
    const rows = await measure(() =>
      deps.db
        .selectFrom("cf_usage_events")
        .select(["id", "guid", "kind", "created_at", "entity"])
        .where("created_at", "<", range.stop)
        .orderBy("created_at")
        .orderBy("id")
        .execute(),
    );
    breakdown.rows.push(spent(rows));
    entityBytes = rows.value.reduce((sum, r) => sum + r.entity.length, 0) / Math.max(1, rows.value.length);
    const parsed = await measure(() =>
      rows.value.map((r) => ({ kind: r.kind, entity: JSON.parse(r.entity) as unknown })),
    );
    breakdown.parse.push(spent(parsed));
    rows.value.length = 0;
    breakdown.normalize.push(
      spent(
        await measure(() => parsed.value.filter((e) => resourceTransition(normalizeEntity(e.kind, e.entity))).length),
      ),
    );
    const normalized = parsed.value.map((e) =>
      JSON.stringify(normalizeEntity(e.kind, e.entity), (_key, value: unknown) => (value === null ? undefined : value)),
    );
    parsed.value.length = 0;
    normalizedBytes = normalized.reduce((sum, text) => sum + text.length, 0) / Math.max(1, normalized.length);
    breakdown.normalized.push(spent(await measure(() => normalized.map((text) => JSON.parse(text) as unknown).length)));
  }
  const intervals = monthIntervals(deps.settings, range, await loadEvents(deps.db, undefined, range.stop));

  log("candidates: priceIntervals with rates and variables resolved once and no ISO round trips");
  const prices: Runs = { original: [], copy: [] };
  let samePrices = true;
  for (let run = 0; run < runs; run++) {
    const original = await measure(() => priceIntervals(intervals, deps.plans, options));
    prices.original.push(spent(original));
    const originalHash = hashOf(original.value);
    original.value.length = 0;
    const copy = await measure(() => priceIntervalsCandidate(intervals, deps.plans, options));
    prices.copy.push(spent(copy));
    samePrices &&= hashOf(copy.value) === originalHash;
  }
  candidates.push(
    candidate(
      "priceIntervals: rates and variables once, no ISO round trips",
      "src/billing/pricing.ts: resolve each component's currency quotient, 1 + VAT and their strings once per rate " +
        "segment (not per piece); convert the formula variables to Money once per interval and plan version, " +
        "time_in_seconds parsed from the milliseconds with exponent -3 instead of a division, and evaluate the AST on Money as given " +
        "(src/billing/formula.ts: export an evaluate that skips the per-call conversions); carry epoch ms in " +
        "UsageInterval and format each distinct boundary once",
      prices,
      samePrices,
    ),
  );

  log("candidates: monthlyBill's pricing and grouping on Money totals, without details");
  const bills: Runs = { original: [], copy: [] };
  let sameBill = true;
  for (let run = 0; run < runs; run++) {
    const original = await measure(() => {
      const priced = priceIntervals(intervals, deps.plans, options);
      return { orgs: groupBill(priced), totals: sumPrices(priced) };
    });
    bills.original.push(spent(original));
    const originalTotals = {
      ex_vat: roundMinor(new Money(original.value.totals.ex_vat)),
      inc_vat: roundMinor(new Money(original.value.totals.inc_vat)),
    };
    const originalHash = hashOf([...original.value.orgs, originalTotals]);
    const copy = await measure(() => {
      const priced = priceTotals(intervals, deps.plans, options);
      let ex = new Money(0);
      let inc = new Money(0);
      for (const p of priced) {
        ex = ex.plus(p.ex_vat);
        inc = inc.plus(p.inc_vat);
      }
      return { orgs: groupTotals(priced), totals: { ex_vat: roundMinor(ex), inc_vat: roundMinor(inc) } };
    });
    bills.copy.push(spent(copy));
    sameBill &&= hashOf([...copy.value.orgs, copy.value.totals]) === originalHash;
  }
  candidates.push(
    candidate(
      "monthlyBill pricing + grouping on Money totals",
      "src/cloudfoundry/billing.ts monthlyBill: price with a totals-only variant of priceIntervals (changes above, " +
        "plus no per-piece details and no string amounts: a bill reads only the first piece's plan name) and let " +
        "groupBill and the totals add those Money values instead of re-parsing toFixed() strings",
      bills,
      sameBill,
    ),
  );

  log("candidates: storing pages into the full database");
  const store = await benchStore(deps);

  return {
    candidates,
    store,
    load: {
      rows: timing(breakdown.rows),
      json_parse: timing(breakdown.parse),
      normalize: timing(breakdown.normalize),
      normalized_parse: timing(breakdown.normalized),
      entity_bytes_mean: Math.round(entityBytes),
      normalized_bytes_mean: Math.round(normalizedBytes),
    },
  };
}

/** Bytes this process has written and read through system calls (/proc/self/io), or undefined without /proc. */
async function ioBytes(): Promise<{ written: number; read: number } | undefined> {
  try {
    const io = await readFile("/proc/self/io", "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(io)?.[1]);
    return { written: field("wchar"), read: field("rchar") };
  } catch {
    return undefined;
  }
}

/** Events each variant appends: enough for a few hundred transactions. */
const STORE_SAMPLE = 20_000;

/** The connection's own page cache (better-sqlite3 builds SQLite with 16 MB), or one that holds the indexes. */
const BIG_CACHE = -262_144;

const STORE_VARIANTS = [
  { name: "as syncOnce stores: a transaction per 100-event page", perTransaction: 100, bigCache: false },
  { name: "256 MiB page cache", perTransaction: 100, bigCache: true },
  { name: "1,000 events (ten pages) per transaction", perTransaction: 1000, bigCache: false },
  { name: "both", perTransaction: 1000, bigCache: true },
] as const;

/**
 * Appends copies of stored events under new guids (so the unique, org and resource indexes take the same random
 * inserts as real events) through the real sink, once per variant. Runs last: it adds to the database.
 */
async function benchStore(deps: BillingDeps): Promise<StoreVariant[]> {
  const sample = await deps.db
    .selectFrom("cf_usage_events")
    .select(["kind", "created_at", "entity"])
    .orderBy("id")
    .limit(STORE_SAMPLE)
    .execute();
  const sink = cfEventStore(deps.db, indexEvent);
  const pragma = await sql<{ cache_size: number }>`pragma cache_size`.execute(deps.db);
  const ownCache = pragma.rows[0]?.cache_size ?? -2000;
  const results: StoreVariant[] = [];
  for (const variant of STORE_VARIANTS) {
    const batch = sample.map((row) => ({
      kind: row.kind as EventKind,
      event: { guid: randomUUID(), created_at: row.created_at, entity: JSON.parse(row.entity) as unknown },
    }));
    const cacheSize = variant.bigCache ? BIG_CACHE : ownCache;
    await sql`pragma cache_size = ${sql.raw(String(cacheSize))}`.execute(deps.db);
    const before = await ioBytes();
    const measured = await measure(async () => {
      for (let i = 0; i < batch.length; i += variant.perTransaction) {
        const chunk = batch.slice(i, i + variant.perTransaction);
        for (const kind of ["app", "service"] as const) {
          const page = chunk.filter((e) => e.kind === kind).map((e) => e.event);
          const last = page.at(-1);
          if (last) await sink.store("bench-store", kind, page, { guid: last.guid, created_at: last.created_at });
        }
      }
    });
    const after = await ioBytes();
    const perEvent = (bytes: number | undefined) =>
      bytes === undefined || Number.isNaN(bytes) ? null : round(bytes / 1024 / batch.length, 1);
    results.push({
      name: variant.name,
      events: batch.length,
      events_per_transaction: variant.perTransaction,
      cache_size: cacheSize,
      seconds: round(measured.seconds, 3),
      cpu_seconds: round(measured.cpu, 3),
      events_per_second: Math.round(batch.length / measured.seconds),
      written_kb_per_event: perEvent(after && before ? after.written - before.written : undefined),
      read_kb_per_event: perEvent(after && before ? after.read - before.read : undefined),
    });
  }
  await sql`pragma cache_size = ${sql.raw(String(ownCache))}`.execute(deps.db);
  return results;
}

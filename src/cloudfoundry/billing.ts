import type { Kysely } from "kysely";
import type { AppContext } from "../app/context.js";
import type { Settings } from "../config/schema.js";
import type { DB } from "../db/types.js";
import { type Money, roundMinor } from "../billing/decimal.js";
import { type Exact, parseExact, plus, toFixed, toMinor, toMoney, ZERO } from "../billing/exact.js";
import {
  type CompiledPlans,
  compilePlans,
  type CurrencyRate,
  type PricingPlan,
  type VatRate,
} from "../billing/plans.js";
import {
  type BillableEvent,
  type PricedTotals,
  priceIntervals,
  type PricingOptions,
  priceTotals,
  type UnpricedUsage,
} from "../billing/pricing.js";
import { iso } from "../lib/time.js";
import { parseDuration } from "../lib/duration.js";
import { type EventColumns, eventColumns } from "./event-columns.js";
import { type EventKind, normalizeEntity, type ResourceType, resourceTransition } from "./events.js";
import { billWorkerCount, runBillChunks } from "./bill-pool.js";
import { type EventTransition, intervalsOf, type UsageInterval } from "./intervals.js";

/** Pricing plans, VAT and currency rates from settings, compiled (and so validated) once at start. */
export function compileBillingSettings(settings: Settings): CompiledPlans {
  const b = settings.billing;
  return compilePlans(
    b.pricing_plans as PricingPlan[],
    b.vat_rates.map((r) => ({ ...r, rate: String(r.rate) })) as VatRate[],
    b.currency_rates.map((r) => ({ ...r, rate: String(r.rate) })) as CurrencyRate[],
  );
}

/**
 * The organization and resource an event concerns, for indexing stored events, and the columns a bill reads.
 * The collector validates every entity before storing it, so an unreadable one throws here.
 */
export function indexEvent(kind: EventKind, entity: unknown): IndexedEvent {
  const normalized = normalizeEntity(kind, entity);
  const transition = resourceTransition(normalized);
  const n = normalized as unknown as Record<string, unknown>;
  const fallback = String(n.app_guid ?? n.service_instance_guid ?? "");
  return {
    org_guid: String(n.org_guid ?? ""),
    resource_guid: transition?.resource_guid ?? fallback,
    ...eventColumns(normalized, transition),
  };
}

/** What the collector stores beside an event's raw entity. */
export interface IndexedEvent extends EventColumns {
  org_guid: string;
  resource_guid: string;
}

export interface Range {
  /** ISO times, [start, stop). */
  start: string;
  stop: string;
}

/** Validates paas-billing's `range_start`/`range_stop` (YYYY-MM-DD, start before stop). */
export function parseRange(rangeStart: unknown, rangeStop: unknown): Range | string {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (typeof rangeStart !== "string" || !day.test(rangeStart) || Number.isNaN(Date.parse(rangeStart))) {
    return "range_start must be a date YYYY-MM-DD";
  }
  if (typeof rangeStop !== "string" || !day.test(rangeStop) || Number.isNaN(Date.parse(rangeStop))) {
    return "range_stop must be a date YYYY-MM-DD";
  }
  if (rangeStop <= rangeStart) return "range_stop must be after range_start";
  return { start: `${rangeStart}T00:00:00.000Z`, stop: `${rangeStop}T00:00:00.000Z` };
}

export interface BillingDeps {
  db: Kysely<DB>;
  settings: Settings;
  plans: CompiledPlans;
  onUnpriced?: (usage: UnpricedUsage) => void;
  /**
   * Lets a large bill use worker threads, each opening the database from `settings` (and `schema`). Left out
   * where the database cannot be opened twice, such as SQLite in memory.
   */
  parallel?: { threads: number; schema?: string | undefined };
}

/** Billing inputs of a running Fleetledger, with worker threads unless its database lives only in this process. */
export function billingDeps(ctx: Pick<AppContext, "database" | "settings" | "plans">): BillingDeps {
  const deps: BillingDeps = { db: ctx.database.db, settings: ctx.settings, plans: ctx.plans };
  if (ctx.database.location.endsWith(":memory:")) return deps;
  return { ...deps, parallel: { threads: billWorkerCount(ctx.settings), schema: ctx.database.schema } };
}

/**
 * The billed events (starts and stops) of some organizations (all when `orgs` is undefined) created before
 * `until`, read from their own columns: no entity is read or parsed.
 */
export async function loadTransitions(
  db: Kysely<DB>,
  orgs: readonly string[] | undefined,
  until: string,
): Promise<EventTransition[]> {
  if (orgs && orgs.length === 0) return [];
  let query = db
    .selectFrom("cf_usage_events")
    .select([
      "id",
      "guid",
      "created_at",
      "org_guid",
      "resource_guid",
      "transition",
      "resource_type",
      "resource_name",
      "plan_guid",
      "plan_name",
      "org_name",
      "space_guid",
      "space_name",
      "instance_count",
      "memory_in_mb",
    ])
    .where("created_at", "<", until)
    .where("transition", "in", ["start", "stop"])
    // The interval builder wants event order, which the database sorts faster than JavaScript.
    .orderBy("created_at")
    .orderBy("id");
  if (orgs) query = query.where("org_guid", "in", orgs);
  const rows = await query.execute();
  const out: EventTransition[] = [];
  for (const r of rows) {
    const at = Date.parse(r.created_at);
    // An unreadable time is skipped as buildIntervals skips it; the collector never stores one.
    if (Number.isNaN(at)) continue;
    out.push({
      guid: r.guid,
      seq: r.id,
      at,
      org_guid: r.org_guid,
      resource_guid: r.resource_guid,
      transition: r.transition as "start" | "stop",
      resource_type: r.resource_type as ResourceType,
      resource_name: r.resource_name,
      plan_guid: r.plan_guid,
      plan_name: r.plan_name,
      org_name: r.org_name,
      space_guid: r.space_guid as string,
      space_name: r.space_name,
      instance_count: r.instance_count,
      memory_in_mb: r.memory_in_mb,
    });
  }
  return out;
}

/**
 * Usage intervals overlapping the range. Open intervals end at `openUntil` (now for actual usage, the range's end
 * for a forecast).
 */
export async function usageIntervals(
  deps: BillingDeps,
  range: Range,
  orgs: readonly string[] | undefined,
  openUntil: string,
): Promise<UsageInterval[]> {
  const until = openUntil < range.stop ? openUntil : range.stop;
  return intervalsInRange(deps.settings, await loadTransitions(deps.db, orgs, until), range, openUntil);
}

/** The intervals of billed events with the Cloud Foundry settings, keeping those that overlap the range. */
export function intervalsInRange(
  settings: Settings,
  transitions: readonly EventTransition[],
  range: Range,
  openUntil: string,
): UsageInterval[] {
  const cf = settings.cloudfoundry;
  return intervalsOf(
    transitions,
    {
      now: openUntil,
      excludedSpaces: cf.excluded_spaces,
      stagingTimeoutMs: parseDuration(cf.staging_max_duration) ?? 3_600_000,
    },
    { start: Date.parse(range.start), stop: Date.parse(range.stop) },
  );
}

/** The billing settings as pricing options for a range; usage no plan covers goes to deps.onUnpriced or nowhere. */
export function pricingOptions(deps: BillingDeps, range: Range): PricingOptions {
  return {
    rangeStart: range.start,
    rangeStop: range.stop,
    currency: deps.settings.billing.currency,
    ceilScope: deps.settings.billing.ceil_scope,
    onUnpriced: deps.onUnpriced ?? (() => undefined),
  };
}

export async function billableEvents(
  deps: BillingDeps,
  range: Range,
  orgs: readonly string[] | undefined,
  now = new Date(),
): Promise<BillableEvent[]> {
  const intervals = await usageIntervals(deps, range, orgs, iso(now));
  return priceIntervals(intervals, deps.plans, pricingOptions(deps, range));
}

export interface BillLine {
  plan_guid: string;
  plan_name: string;
  resource_type: string;
  resources: number;
  ex_vat: string;
  inc_vat: string;
}

export interface SpaceBill {
  space_guid: string;
  space_name: string;
  ex_vat: string;
  inc_vat: string;
  lines: BillLine[];
}

export interface OrgBill {
  org_guid: string;
  org_name: string;
  /** Rounded to the currency's minor unit (banker's rounding); lines keep exact amounts. */
  ex_vat: string;
  inc_vat: string;
  spaces: SpaceBill[];
  revision?: number;
  previous?: { revision: number; ex_vat: string; inc_vat: string };
}

export interface Bill {
  month: string;
  currency: string;
  status: "open" | "closed";
  generated_at: string;
  orgs: OrgBill[];
  totals: { ex_vat: string; inc_vat: string };
  /** For the running month: what was used so far, and that usage continued to the end of the month. */
  month_to_date?: { ex_vat: string; inc_vat: string };
  forecast?: { ex_vat: string; inc_vat: string };
}

export function monthRange(month: string): Range {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new RangeError(`month must be YYYY-MM (got "${month}")`);
  const [y, m] = month.split("-").map(Number) as [number, number];
  return { start: iso(Date.UTC(y, m - 1, 1)), stop: iso(Date.UTC(y, m, 1)) };
}

/** Groups priced intervals into org → space → plan lines. */
export function groupBill(priced: readonly PricedTotals[]): OrgBill[] {
  type Line = Omit<BillLine, "ex_vat" | "inc_vat"> & { set: Set<string>; ex: Exact; inc: Exact };
  const orgs = new Map<string, { name: string; spaces: Map<string, { name: string; lines: Map<string, Line> }> }>();
  for (const { interval: e, plan_name, exact } of priced) {
    let org = orgs.get(e.org_guid);
    if (!org) {
      org = { name: e.org_name, spaces: new Map() };
      orgs.set(e.org_guid, org);
    }
    let space = org.spaces.get(e.space_guid);
    if (!space) {
      space = { name: e.space_name, lines: new Map() };
      org.spaces.set(e.space_guid, space);
    }
    const key = `${e.plan_guid}\u0000${e.resource_type}`;
    let line = space.lines.get(key);
    if (!line) {
      line = {
        plan_guid: e.plan_guid,
        // A bill names the pricing plan that priced the usage; the interval's own plan name is CF's service plan.
        plan_name,
        resource_type: e.resource_type,
        resources: 0,
        set: new Set<string>(),
        ex: ZERO,
        inc: ZERO,
      };
      space.lines.set(key, line);
    }
    line.set.add(e.resource_guid);
    line.ex = plus(line.ex, exact.ex_vat);
    line.inc = plus(line.inc, exact.inc_vat);
  }
  return [...orgs.entries()]
    .map(([org_guid, org]) => {
      let orgEx = ZERO;
      let orgInc = ZERO;
      const spaces = [...org.spaces.entries()]
        .map(([space_guid, space]) => {
          let ex = ZERO;
          let inc = ZERO;
          const lines = [...space.lines.values()]
            .map(({ set, ex: lineEx, inc: lineInc, ...line }) => {
              ex = plus(ex, lineEx);
              inc = plus(inc, lineInc);
              return { ...line, resources: set.size, ex_vat: toFixed(lineEx), inc_vat: toFixed(lineInc) };
            })
            .sort((a, b) => a.plan_name.localeCompare(b.plan_name) || a.resource_type.localeCompare(b.resource_type));
          orgEx = plus(orgEx, ex);
          orgInc = plus(orgInc, inc);
          return { space_guid, space_name: space.name, ex_vat: toMinor(ex), inc_vat: toMinor(inc), lines };
        })
        .sort((a, b) => a.space_name.localeCompare(b.space_name));
      return { org_guid, org_name: org.name, ex_vat: toMinor(orgEx), inc_vat: toMinor(orgInc), spaces };
    })
    .sort((a, b) => a.org_name.localeCompare(b.org_name));
}

/** Exact sums of ex and inc VAT amounts: priced intervals, or the exact texts of slice totals. */
export function sumTotals(items: readonly (PricedTotals | { ex_vat: string; inc_vat: string })[]): {
  ex_vat: Money;
  inc_vat: Money;
} {
  let ex = ZERO;
  let inc = ZERO;
  for (const item of items) {
    if ("exact" in item) {
      ex = plus(ex, item.exact.ex_vat);
      inc = plus(inc, item.exact.inc_vat);
    } else {
      ex = plus(ex, parseExact(item.ex_vat));
      inc = plus(inc, parseExact(item.inc_vat));
    }
  }
  return { ex_vat: toMoney(ex), inc_vat: toMoney(inc) };
}

/**
 * The bill of a month. A running month also gets its month-to-date figure and a forecast (everything running now
 * keeps running to the month's end). A closed month keeps revisions: when late events change an organization's
 * total, the bill shows a new revision with the previous totals.
 */
export async function monthlyBill(
  deps: BillingDeps,
  month: string,
  orgs: readonly string[] | undefined,
  now = new Date(),
): Promise<Bill> {
  const range = monthRange(month);
  const closed = range.stop <= iso(now);
  // An organization's usage never mixes with another's, so the bill is built a slice of organizations at a time:
  // memory stays bounded by the slice, and a large bill spreads its slices over worker threads.
  const requests = [...chunked(await billedOrgs(deps.db, orgs, range.stop), BILL_ORG_CHUNK)].map((chunk) => ({
    month,
    orgs: chunk,
    closed,
    now: iso(now),
  }));
  const threads = deps.parallel ? Math.min(deps.parallel.threads, requests.length) : 1;
  const results =
    threads > 1 && deps.parallel
      ? await runBillChunks(deps.settings, deps.parallel.schema, requests, threads)
      : await sequentially(requests, (request) => billChunk(deps, request));
  const grouped: OrgBill[] = [];
  for (const result of results) {
    grouped.push(...result.orgs);
    for (const usage of result.unpriced) deps.onUnpriced?.(usage);
  }
  grouped.sort((a, b) => a.org_name.localeCompare(b.org_name));
  const totals = sumTotals(results.map((r) => r.totals));
  const bill: Bill = {
    month,
    currency: deps.settings.billing.currency,
    status: closed ? "closed" : "open",
    generated_at: iso(now),
    orgs: grouped,
    totals: { ex_vat: roundMinor(totals.ex_vat), inc_vat: roundMinor(totals.inc_vat) },
  };
  if (!closed) {
    const forecast = sumTotals(results.flatMap((r) => (r.forecast ? [r.forecast] : [])));
    bill.month_to_date = bill.totals;
    bill.forecast = { ex_vat: roundMinor(forecast.ex_vat), inc_vat: roundMinor(forecast.inc_vat) };
    return bill;
  }
  for (const org of grouped) await recordRevision(deps.db, month, org, range.stop, now);
  return bill;
}

async function sequentially<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await task(item));
  return out;
}

/** One slice of organizations of a monthly bill, as a worker thread is asked for it. */
export interface BillChunkRequest {
  month: string;
  orgs: string[];
  closed: boolean;
  /** ISO time the bill is made at. */
  now: string;
}

/** Totals as exact decimal texts, so they cross a thread boundary without losing a digit. */
export interface BillChunkResult {
  orgs: OrgBill[];
  totals: { ex_vat: string; inc_vat: string };
  forecast?: { ex_vat: string; inc_vat: string };
  unpriced: UnpricedUsage[];
}

export async function billChunk(deps: BillingDeps, request: BillChunkRequest): Promise<BillChunkResult> {
  const range = monthRange(request.month);
  const unpriced: UnpricedUsage[] = [];
  // Read once for both figures of a running month: buildIntervals ignores events after its `now`, so the
  // month-to-date intervals come out the same as from events read up to now.
  const events = await loadTransitions(deps.db, request.orgs, range.stop);
  const priceUntil = (openUntil: string, onUnpriced: (usage: UnpricedUsage) => void) =>
    priceTotals(
      intervalsInRange(deps.settings, events, range, openUntil),
      deps.plans,
      pricingOptions({ ...deps, onUnpriced }, range),
    );
  const priced = priceUntil(request.closed ? range.stop : request.now, (usage) => unpriced.push(usage));
  const totals = sumTotals(priced);
  const result: BillChunkResult = {
    orgs: groupBill(priced),
    totals: { ex_vat: totals.ex_vat.toFixed(), inc_vat: totals.inc_vat.toFixed() },
    unpriced,
  };
  if (!request.closed) {
    // The forecast's own unpriced usage repeats the month-to-date's and is not reported twice.
    const forecast = sumTotals(priceUntil(range.stop, () => undefined));
    result.forecast = { ex_vat: forecast.ex_vat.toFixed(), inc_vat: forecast.inc_vat.toFixed() };
  }
  return result;
}

/** Organizations a bill is built from at a time; about 1,000 events each in a large foundation. */
const BILL_ORG_CHUNK = 100;

function* chunked<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** The organizations asked for, or every organization with an event before `until`, from the org index. */
async function billedOrgs(db: Kysely<DB>, orgs: readonly string[] | undefined, until: string): Promise<string[]> {
  if (orgs) return [...new Set(orgs)];
  const rows = await db
    .selectFrom("cf_usage_events")
    .select("org_guid")
    .where("created_at", "<", until)
    .distinct()
    .orderBy("org_guid")
    .execute();
  return rows.map((r) => r.org_guid);
}

async function recordRevision(db: Kysely<DB>, month: string, org: OrgBill, monthEnd: string, now: Date): Promise<void> {
  const lastEvent = await db
    .selectFrom("cf_usage_events")
    .select((eb) => eb.fn.max("id").as("id"))
    .where("org_guid", "=", org.org_guid)
    .where("created_at", "<", monthEnd)
    .executeTakeFirst();
  const lastEventId = Number(lastEvent?.id ?? 0);
  const latest = await db
    .selectFrom("bill_revisions")
    .selectAll()
    .where("month", "=", month)
    .where("org_guid", "=", org.org_guid)
    .orderBy("revision", "desc")
    .limit(1)
    .executeTakeFirst();
  const unchanged = latest && latest.ex_vat === org.ex_vat && latest.inc_vat === org.inc_vat;
  const revision = unchanged ? latest.revision : (latest?.revision ?? 0) + 1;
  if (!unchanged) {
    await db
      .insertInto("bill_revisions")
      .values({
        month,
        org_guid: org.org_guid,
        revision,
        ex_vat: org.ex_vat,
        inc_vat: org.inc_vat,
        last_event_id: lastEventId,
        created_at: iso(now),
      })
      .onConflict((oc) => oc.columns(["month", "org_guid", "revision"]).doNothing())
      .execute();
  }
  org.revision = revision;
  if (revision > 1) {
    const previous = await db
      .selectFrom("bill_revisions")
      .select(["revision", "ex_vat", "inc_vat"])
      .where("month", "=", month)
      .where("org_guid", "=", org.org_guid)
      .where("revision", "=", revision - 1)
      .executeTakeFirst();
    if (previous) org.previous = previous;
  }
}

import { type Kysely, sql } from "kysely";
import { Money, roundMinor } from "../billing/decimal.js";
import { PricingError, priceTotals } from "../billing/pricing.js";
import { type BillingDeps, monthRange, pricingOptions, usageIntervals } from "../cloudfoundry/billing.js";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";

export interface DayCount {
  /** YYYY-MM-DD (UTC). */
  day: string;
  count: number;
}

/**
 * Diffs per UTC day since `sinceDay`. Times are stored as ISO strings, so the day is their first ten characters,
 * which works the same on SQLite and PostgreSQL.
 */
export async function diffsPerDay(db: Kysely<DB>, systemId: string, sinceDay: string): Promise<DayCount[]> {
  const day = sql<string>`substr(created_at, 1, 10)`;
  const rows = await db
    .selectFrom("inventory_diffs")
    .select([day.as("day"), (eb) => eb.fn.countAll<number | string>().as("n")])
    .where("system_id", "=", systemId)
    .where("created_at", ">=", sinceDay)
    .groupBy(day)
    .execute();
  // PostgreSQL returns count(*) as a bigint string.
  return rows.map((r) => ({ day: r.day, count: Number(r.n) }));
}

export interface ChartSeries {
  /** Unix seconds of each day's UTC midnight, as uPlot expects for a time axis. */
  x: number[];
  y: number[];
}

/** The last `days` days ending today, days without diffs filled with zero; undefined when all are zero. */
export function dailySeries(counts: DayCount[], now: Date, days: number): ChartSeries | undefined {
  const byDay = new Map(counts.map((c) => [c.day, c.count]));
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const series: ChartSeries = { x: [], y: [] };
  for (let i = days - 1; i >= 0; i--) {
    const midnight = today - i * 86_400_000;
    series.x.push(midnight / 1000);
    series.y.push(byDay.get(new Date(midnight).toISOString().slice(0, 10)) ?? 0);
  }
  return series.y.some((n) => n > 0) ? series : undefined;
}

export function firstChartDay(now: Date, days: number): string {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * 86_400_000).toISOString().slice(0, 10);
}

export async function organizationName(db: Kysely<DB>, orgId: string): Promise<string | undefined> {
  const row = await db.selectFrom("organizations").select("name").where("id", "=", orgId).executeTakeFirst();
  return row?.name;
}

export interface VmMatch {
  vm_id: string;
  name: string;
  vcenter: string;
  /** Unix seconds of the newest sample or rollup row the match came from. */
  last_seen: number;
}

/** `text` as a LIKE pattern that matches it literally anywhere, for `like … escape '\'` on both dialects. */
function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * VMs whose name contains `term` (case-insensitively) or whose VmId is `term`. Samples are searched only in each
 * vCenter's latest snapshot, which the primary key finds directly, and history in the daily rollup, which holds a
 * row per VM and day instead of one per hour: a search scans far fewer rows and still finds every VM that exists
 * now or was ever rolled up.
 */
export async function searchVms(db: Kysely<DB>, term: string, limit: number): Promise<VmMatch[]> {
  const pattern = containsPattern(term);
  const [current, rolled] = await Promise.all([
    db
      .selectFrom("vm_samples as s")
      .innerJoin("vcenter_latest_totals as l", (join) =>
        join.onRef("l.vcenter", "=", "s.vcenter").onRef("l.snapshot_time", "=", "s.snapshot_time"),
      )
      .select(["s.vm_id", "s.name", "s.vcenter", "s.snapshot_time as seen"])
      .where((eb) => eb.or([eb("s.vm_id", "=", term), sql<boolean>`lower(s.name) like ${pattern} escape '\\'`]))
      .limit(limit)
      .execute(),
    db
      .selectFrom("vm_daily_rollup")
      .select(["vm_id", "name", "vcenter", (eb) => eb.fn.max("snapshot_time").as("seen")])
      .where((eb) => eb.or([eb("vm_id", "=", term), sql<boolean>`lower(name) like ${pattern} escape '\\'`]))
      .groupBy(["vcenter", "vm_id", "name"])
      .orderBy("seen", "desc")
      .limit(limit)
      .execute(),
  ]);
  const byVm = new Map<string, VmMatch>();
  for (const row of [...current, ...rolled]) {
    const match = { vm_id: row.vm_id, name: row.name, vcenter: row.vcenter, last_seen: Number(row.seen) };
    const key = `${row.vcenter}\n${row.vm_id}`;
    const known = byVm.get(key);
    if (!known || known.last_seen < match.last_seen) byVm.set(key, match);
  }
  return [...byVm.values()].sort((a, b) => b.last_seen - a.last_seen).slice(0, limit);
}

export interface VmIdentity {
  vm_id: string;
  vm_uuid: string;
  name: string;
  vcenter: string;
  resource_pool: string;
  cluster: string;
  datacenter: string;
  folder: string;
  /** Unix seconds; 0 when vCenter did not report it. */
  creation_time: number;
  /** Unix seconds of the first snapshot without the VM; 0 while it exists. */
  deletion_time: number;
  /** Unix seconds of the newest sample or rollup row. */
  last_seen: number;
}

/** A VM as its newest sample describes it, or its newest daily rollup row once the samples have aged out. */
export async function vmIdentity(db: Kysely<DB>, vmId: string): Promise<VmIdentity | undefined> {
  const columns = [
    "vm_id",
    "vm_uuid",
    "name",
    "vcenter",
    "resource_pool",
    "cluster",
    "datacenter",
    "folder",
    "creation_time",
    "deletion_time",
    "snapshot_time",
  ] as const;
  const sample = await db
    .selectFrom("vm_samples")
    .select(columns)
    .where("vm_id", "=", vmId)
    .orderBy("snapshot_time", "desc")
    .limit(1)
    .executeTakeFirst();
  const row =
    sample ??
    (await db
      .selectFrom("vm_daily_rollup")
      .select(columns)
      .where("vm_id", "=", vmId)
      .orderBy("day", "desc")
      .limit(1)
      .executeTakeFirst());
  if (!row) return undefined;
  const { snapshot_time, creation_time, deletion_time, ...rest } = row;
  return {
    ...rest,
    creation_time: Number(creation_time),
    deletion_time: Number(deletion_time),
    last_seen: Number(snapshot_time),
  };
}

export interface LatestRun {
  vcenter: string;
  snapshot_time: number;
  status: string;
  error: string | null;
}

/** Each vCenter's newest snapshot run, failed or not, so the overview can flag a vCenter that stopped answering. */
export async function latestRuns(db: Kysely<DB>): Promise<LatestRun[]> {
  const rows = await db
    .selectFrom("vsphere_snapshots as r")
    .select(["r.vcenter", "r.snapshot_time", "r.status", "r.error"])
    .where("r.snapshot_time", "=", (eb) =>
      eb
        .selectFrom("vsphere_snapshots as n")
        .select((n) => n.fn.max("n.snapshot_time").as("t"))
        .whereRef("n.vcenter", "=", "r.vcenter"),
    )
    .execute();
  return rows.map((r) => ({ ...r, snapshot_time: Number(r.snapshot_time) }));
}

/** Every vCenter that has a snapshot run, for the snapshot filter. */
export async function snapshotVcenters(db: Kysely<DB>): Promise<string[]> {
  const rows = await db.selectFrom("vsphere_snapshots").select("vcenter").distinct().orderBy("vcenter").execute();
  return rows.map((r) => r.vcenter);
}

/**
 * Whether any VM sample lies in [from, to) (unix seconds). Goes through the registry's time index and then the
 * samples' primary key; the registry alone would not do, it keeps its rows after retention deletes the samples.
 */
export async function hasSamples(db: Kysely<DB>, from: number, to: number): Promise<boolean> {
  const row = await db
    .selectFrom("vsphere_snapshots as r")
    .select("r.vcenter")
    .where("r.snapshot_time", ">=", from)
    .where("r.snapshot_time", "<", to)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom("vm_samples as s")
          .select("s.vm_id")
          .whereRef("s.vcenter", "=", "r.vcenter")
          .whereRef("s.snapshot_time", "=", "r.snapshot_time"),
      ),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether any daily rollup row lies between the two days, both included. */
export async function hasDailyRows(db: Kysely<DB>, firstDay: string, lastDay: string): Promise<boolean> {
  const row = await db
    .selectFrom("vm_daily_rollup")
    .select("vm_id")
    .where("day", ">=", firstDay)
    .where("day", "<=", lastDay)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether any Cloud Foundry usage event is stored, of one organization or of any. */
export async function hasUsageEvents(db: Kysely<DB>, orgGuid?: string): Promise<boolean> {
  let query = db.selectFrom("cf_usage_events").select("id").limit(1);
  if (orgGuid !== undefined) query = query.where("org_guid", "=", orgGuid);
  return (await query.executeTakeFirst()) !== undefined;
}

/** The organizations with usage events of a resource: one, unless two foundations reuse a guid. */
export async function resourceOrgs(db: Kysely<DB>, resourceGuid: string): Promise<string[]> {
  const rows = await db
    .selectFrom("cf_usage_events")
    .select("org_guid")
    .distinct()
    .where("resource_guid", "=", resourceGuid)
    .execute();
  return rows.map((r) => r.org_guid);
}

export interface OrgMonthTotals {
  month: string;
  /**
   * Each organization's inc-VAT total by guid, rounded as its bill rounds it; undefined for a month that has not
   * begun or that the pricing settings cannot price.
   */
  orgs: Map<string, { name: string; inc_vat: string }> | undefined;
}

/**
 * Inc-VAT totals per organization for consecutive months, the figures their monthly bills show. monthlyBill per
 * month would read every event up to each month's end again and record bill revisions; here the events are read
 * once and each month priced from the same intervals. Only a staging whose stop got lost can differ: its bound is
 * measured to now here, to the month's end on the bill.
 */
export async function monthlyOrgTotals(
  deps: BillingDeps,
  months: readonly string[],
  now: Date,
): Promise<OrgMonthTotals[]> {
  const nowIso = iso(now);
  const periods = months.map((month) => ({ month, range: monthRange(month) }));
  const begun = periods.filter((p) => p.range.start < nowIso);
  const first = begun[0];
  const last = begun[begun.length - 1];
  const intervals =
    first && last
      ? await usageIntervals(deps, { start: first.range.start, stop: last.range.stop }, undefined, nowIso)
      : [];
  return periods.map(({ month, range }) => {
    if (range.start >= nowIso) return { month, orgs: undefined };
    let priced: ReturnType<typeof priceTotals>;
    try {
      priced = priceTotals(
        intervals.filter((interval) => interval.stop > range.start && interval.start < range.stop),
        deps.plans,
        // The selected month's own bill names its unpriced plans; the other months would only repeat them.
        pricingOptions({ ...deps, onUnpriced: () => undefined }, range),
      );
    } catch (err) {
      if (!(err instanceof PricingError)) throw err;
      return { month, orgs: undefined };
    }
    const sums = new Map<string, { name: string; total: Money }>();
    for (const { interval, inc_vat } of priced) {
      const sum = sums.get(interval.org_guid) ?? { name: interval.org_name, total: new Money(0) };
      sum.total = sum.total.plus(inc_vat);
      sums.set(interval.org_guid, sum);
    }
    const orgs = new Map([...sums].map(([guid, s]) => [guid, { name: s.name, inc_vat: roundMinor(s.total) }]));
    return { month, orgs };
  });
}

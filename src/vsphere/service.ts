import type { AppContext } from "../app/context.js";
import { parseRateCard } from "../billing/rate-card.js";
import { type Chargeback, chargeback, dayPeriod, monthPeriod } from "../billing/vm-chargeback.js";
import { aggregateDaily, aggregateMonthly, dayBounds, monthBounds, storePeriodTotals } from "./aggregate.js";
import { rebuildSnapshotCaches } from "./snapshots.js";
import { snapshotFilters, tenantOf } from "./filters.js";

/**
 * The vCenter jobs as the server, the worker and the CLI run them: the aggregation itself plus its metrics and
 * the report files written after it.
 */

export interface AggregationOutcome {
  type: "daily" | "monthly";
  date: string;
  rows: number;
  duration_ms: number;
  reports: string[];
}

/** Writes the report of a period: an hourly snapshot (unix seconds), a day or a month. Returns the files written. */
export type ReportWriter = (kind: "hourly" | "daily" | "monthly", period: string) => Promise<string[]>;

export async function runDailyAggregation(
  ctx: AppContext,
  day: string,
  writeReports?: ReportWriter,
): Promise<AggregationOutcome> {
  const m = ctx.metrics.vctp;
  try {
    const result = await aggregateDaily(ctx.database.db, ctx.database.dialect, day);
    m.daily.inc();
    m.dailyDuration.set(result.durationMs / 1000);
    const reports = writeReports ? await writeReports("daily", day) : [];
    return { type: "daily", date: day, rows: result.rows, duration_ms: Math.round(result.durationMs), reports };
  } catch (err) {
    m.dailyFailed.inc();
    throw err;
  }
}

export async function runMonthlyAggregation(
  ctx: AppContext,
  month: string,
  writeReports?: ReportWriter,
): Promise<AggregationOutcome> {
  const m = ctx.metrics.vctp;
  try {
    const result = await aggregateMonthly(
      ctx.database.db,
      ctx.database.dialect,
      month,
      ctx.settings.vsphere.monthly_source,
    );
    m.monthly.inc();
    m.monthlyDuration.set(result.durationMs / 1000);
    const reports = writeReports ? await writeReports("monthly", month) : [];
    return { type: "monthly", date: month, rows: result.rows, duration_ms: Math.round(result.durationMs), reports };
  } catch (err) {
    m.monthlyFailed.inc();
    throw err;
  }
}

/** Chargeback per tenant for a day (`YYYY-MM-DD`) or a month (`YYYY-MM`) from the stored rollup. */
export async function vmChargeback(
  ctx: AppContext,
  period: { day: string } | { month: string },
): Promise<Chargeback & { period: string }> {
  const db = ctx.database.db;
  // The bounds functions reject malformed periods before any query runs.
  if ("day" in period) dayBounds(period.day);
  else monthBounds(period.month);
  const rows =
    "day" in period
      ? await db.selectFrom("vm_daily_rollup").selectAll().where("day", "=", period.day).execute()
      : await db.selectFrom("vm_monthly_rollup").selectAll().where("month", "=", period.month).execute();
  const from = ctx.settings.vsphere.tenant_from;
  const filters = snapshotFilters(ctx.settings);
  const vms = rows.map((r) => ({
    VmId: r.vm_id,
    Name: r.name,
    Vcenter: r.vcenter,
    Cluster: r.cluster,
    tenant: tenantOf({ Folder: r.folder, ResourcePool: r.resource_pool }, from),
    AvgIsPresent: r.avg_is_present,
    AvgVcpuCount: r.avg_vcpu_count,
    AvgRamGB: r.avg_ram_gb,
    AvgProvisionedDisk: r.avg_provisioned_disk,
    Tin: r.tin,
    Bronze: r.bronze,
    Silver: r.silver,
    Gold: r.gold,
  }));
  const card = parseRateCard(ctx.settings.billing.rate_card);
  const periodSpec = "day" in period ? dayPeriod(period.day) : monthPeriod(period.month);
  const result = chargeback(vms, periodSpec, card, ctx.settings.billing.currency, filters.nodeCharged);
  return { period: "day" in period ? period.day : period.month, ...result };
}

/**
 * Snapshot retention: samples older than hourly_snapshot_max_age_days and daily rows older than
 * daily_snapshot_max_age_months go; the registry keeps its rows so history of runs stays visible.
 */
export async function cleanupSnapshots(ctx: AppContext, now = new Date()): Promise<{ samples: number; daily: number }> {
  const s = ctx.settings.settings;
  const sampleCutoff = Math.floor(now.getTime() / 1000) - s.hourly_snapshot_max_age_days * 86400;
  const dayCutoff = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - s.daily_snapshot_max_age_months, now.getUTCDate()),
  )
    .toISOString()
    .slice(0, 10);
  const samples = await ctx.database.db
    .deleteFrom("vm_samples")
    .where("snapshot_time", "<", sampleCutoff)
    .executeTakeFirst();
  const daily = await ctx.database.db.deleteFrom("vm_daily_rollup").where("day", "<", dayCutoff).executeTakeFirst();
  return { samples: Number(samples.numDeletedRows), daily: Number(daily.numDeletedRows) };
}

/**
 * Rebuilds vcenter_latest_totals and vcenter_aggregate_totals from the stored samples and rollups (vCTP's
 * -backfill-vcenter-cache): hourly intervals snapshot by snapshot, daily and monthly totals from the rollup tables.
 */
export async function backfillCaches(
  ctx: AppContext,
  onProgress?: (done: number, total: number) => void,
): Promise<{ snapshots: number; days: number; months: number }> {
  const db = ctx.database.db;
  const runs = await db
    .selectFrom("vsphere_snapshots")
    .select(["vcenter", "snapshot_time"])
    .where("status", "=", "success")
    .orderBy("vcenter")
    .orderBy("snapshot_time")
    .execute();
  let done = 0;
  for (const run of runs) {
    await rebuildSnapshotCaches(db, run.vcenter, Number(run.snapshot_time));
    onProgress?.(++done, runs.length);
  }
  const days = await db.selectFrom("vm_daily_rollup").select("day").distinct().execute();
  const months = await db.selectFrom("vm_monthly_rollup").select("month").distinct().execute();
  await db.transaction().execute(async (trx) => {
    for (const { day } of days)
      await storePeriodTotals(trx, "daily", "vm_daily_rollup", "day", day, dayBounds(day).start);
    for (const { month } of months) {
      await storePeriodTotals(trx, "monthly", "vm_monthly_rollup", "month", month, monthBounds(month).start);
    }
  });
  return { snapshots: runs.length, days: days.length, months: months.length };
}

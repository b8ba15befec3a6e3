import { toCsv } from "./csv.js";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";
import { dayBounds, monthBounds } from "../vsphere/aggregate.js";
import { buildWorkbook, CHART_ROWS, type CellValue, type Chart, type Column, type Sheet, type Table } from "./xlsx.js";

/**
 * vCTP's reports: one XLSX per hourly snapshot run, day and month (a Totals sheet with a chart, a per-VM sheet, and
 * for months a Daily Totals sheet), each with a CSV twin of its VMs sheet. Every time is UTC, like the rollups.
 */

export type ReportKind = "hourly" | "daily" | "monthly";

export interface ReportFile {
  name: string;
  kind: ReportKind;
  format: "xlsx" | "csv";
  size: number;
  /** ISO-8601 time of the last write. */
  modified: string;
}

export interface HourlyReportOptions {
  /** Only this vCenter; every vCenter otherwise. */
  vcenter?: string;
  /** Unix seconds of the snapshot run; the report covers the UTC hour it falls in. */
  snapshotTime: number;
  dir: string;
}

export interface DailyReportOptions {
  day: string;
  dir: string;
}

export interface MonthlyReportOptions {
  month: string;
  dir: string;
}

const REPORT_NAME =
  /^vctp-(?:(?<hourly>hourly)-\d{8}-\d{2}00|(?<daily>daily)-\d{4}-\d{2}-\d{2}|(?<monthly>monthly)-\d{4}-\d{2})\.(?<format>xlsx|csv)$/;

const DECIMAL = "#,##0.00";
const FRACTION = "0.0000";
const PERCENT = "0.00";
const HOURLY_WINDOW = 48 * 3600;

const TOTALS_COLUMNS: Column[] = [
  { header: "Interval" },
  { header: "Vcenter" },
  ...["VMs", "vCPUs", "RAM GB", "Disk GB", "Tin", "Bronze", "Silver", "Gold"].map((header) => ({
    header,
    format: DECIMAL,
  })),
];

const SAMPLE_COLUMNS: Column[] = [
  ...["Vcenter", "VmId", "VmUuid", "Name", "ResourcePool", "Cluster", "Datacenter", "Folder"].map((header) => ({
    header,
  })),
  { header: "VcpuCount" },
  { header: "RamGB" },
  { header: "ProvisionedDisk" },
  { header: "PoweredOn" },
  { header: "IsTemplate" },
  { header: "CreationTime" },
  { header: "DeletionTime" },
  { header: "SnapshotTime" },
];

const AGGREGATE_COLUMNS: Column[] = [
  ...["Vcenter", "VmId", "VmUuid", "Name", "ResourcePool", "Cluster", "Datacenter"].map((header) => ({ header })),
  { header: "SamplesPresent" },
  { header: "TotalSamples" },
  { header: "AvgIsPresent", format: FRACTION },
  { header: "AvgVcpuCount", format: DECIMAL },
  { header: "AvgRamGB", format: DECIMAL },
  { header: "AvgProvisionedDisk", format: DECIMAL },
  ...["PoolTinPct", "PoolBronzePct", "PoolSilverPct", "PoolGoldPct"].map((header) => ({ header, format: PERCENT })),
  ...["Tin", "Bronze", "Silver", "Gold"].map((header) => ({ header, format: FRACTION })),
  { header: "CreationTime" },
  { header: "DeletionTime" },
  { header: "SnapshotTime" },
];

const TIER_COLORS = ["7F8C8D", "CD7F32", "A6A6A6", "D4AF37"];

type TotalsRow = DB["vcenter_aggregate_totals"];
type AggregateRow = Omit<DB["vm_daily_rollup"], "day">;

/** Totals of the 48 hourly intervals before the run's hour, and the VM rows of each vCenter's run in that hour. */
export async function writeHourlyReport(db: Kysely<DB>, options: HourlyReportOptions): Promise<string> {
  const hourStart = Math.floor(options.snapshotTime / 3600) * 3600;
  const { vcenter } = options;

  let totalsQuery = db
    .selectFrom("vcenter_aggregate_totals")
    .selectAll()
    .where("kind", "=", "hourly")
    .where("period_start", ">=", hourStart - HOURLY_WINDOW)
    .where("period_start", "<", hourStart);
  if (vcenter !== undefined) totalsQuery = totalsQuery.where("vcenter", "=", vcenter);
  const totals = await totalsQuery.orderBy("period_start").orderBy("vcenter").execute();

  // vCenters are snapshotted independently, seconds apart: the run is each one's latest success in the hour.
  let runsQuery = db
    .selectFrom("vsphere_snapshots")
    .select(({ fn }) => ["vcenter", fn.max("snapshot_time").as("snapshot_time")])
    .where("status", "=", "success")
    .where("snapshot_time", ">=", hourStart)
    .where("snapshot_time", "<", hourStart + 3600)
    .groupBy("vcenter");
  if (vcenter !== undefined) runsQuery = runsQuery.where("vcenter", "=", vcenter);
  const runs = await runsQuery.execute();
  const samples = runs.length
    ? await db
        .selectFrom("vm_samples")
        .selectAll()
        .where(({ eb, and, or }) =>
          or(runs.map((r) => and([eb("vcenter", "=", r.vcenter), eb("snapshot_time", "=", Number(r.snapshot_time))]))),
        )
        .orderBy("vcenter")
        .orderBy("name")
        .orderBy("vm_id")
        .execute()
    : [];

  const vms: Table = {
    row: 0,
    col: 0,
    columns: SAMPLE_COLUMNS,
    rows: samples.map((s) => [
      s.vcenter,
      s.vm_id,
      s.vm_uuid,
      s.name,
      s.resource_pool,
      s.cluster,
      s.datacenter,
      s.folder,
      s.vcpu_count,
      s.ram_gb,
      s.provisioned_disk,
      s.powered_on === 1,
      s.is_template === 1,
      unixCell(s.creation_time),
      unixCell(s.deletion_time),
      unixCell(s.snapshot_time),
    ]),
  };
  const intervals = totalsTable(totals.map((t) => totalsRow(hourLabel(Number(t.period_start)), t)));
  const chartData = hourlySeries(totals, CHART_ROWS + 2, TOTALS_COLUMNS.length + 1);
  const base = `vctp-hourly-${compactDate(hourStart)}-${pad(new Date(hourStart * 1000).getUTCHours())}00`;
  return writeReport(
    options.dir,
    base,
    [
      {
        name: "Totals",
        tables: [intervals, chartData],
        charts: [seriesChart("VMs and vCPUs per hour", 1, chartData, TOTALS_COLUMNS.length + 1)],
        fitToWidth: true,
      },
      { name: "VMs", tables: [vms] },
    ],
    vms,
  );
}

/** The day's per-vCenter totals and hourly intervals, and the daily rollup rows. */
export async function writeDailyReport(db: Kysely<DB>, options: DailyReportOptions): Promise<string> {
  const { start, end } = dayBounds(options.day);
  const daily = await db
    .selectFrom("vcenter_aggregate_totals")
    .selectAll()
    .where("kind", "=", "daily")
    .where("period_start", "=", start)
    .orderBy("vcenter")
    .execute();
  const hourly = await db
    .selectFrom("vcenter_aggregate_totals")
    .selectAll()
    .where("kind", "=", "hourly")
    .where("period_start", ">=", start)
    .where("period_start", "<", end)
    .orderBy("period_start")
    .orderBy("vcenter")
    .execute();
  const rows = await db
    .selectFrom("vm_daily_rollup")
    .selectAll()
    .where("day", "=", options.day)
    .orderBy("vcenter")
    .orderBy("name")
    .orderBy("vm_id")
    .execute();

  const dayTable = totalsTable(daily.map((t) => totalsRow(periodLabel(start, end), t)));
  // The hourly block repeats the header below the day's rows, so either block reads on its own.
  const hourTable: Table = {
    row: dayTable.rows.length + 2,
    col: 0,
    columns: TOTALS_COLUMNS,
    rows: hourly.map((t) => totalsRow(hourLabel(Number(t.period_start)), t)),
  };
  const chartData = hourlySeries(hourly, CHART_ROWS + 2, TOTALS_COLUMNS.length + 1);
  const vms = aggregateTable(rows);
  return writeReport(
    options.dir,
    `vctp-daily-${options.day}`,
    [
      {
        name: "Totals",
        tables: [dayTable, hourTable, chartData],
        charts: [seriesChart(`VMs and vCPUs per hour, ${options.day}`, 2, chartData, TOTALS_COLUMNS.length + 1)],
        fitToWidth: true,
      },
      { name: "VMs", tables: [vms] },
    ],
    vms,
  );
}

/** The month's per-vCenter totals, the prorated totals of each day with daily rows, and the monthly rollup rows. */
export async function writeMonthlyReport(db: Kysely<DB>, options: MonthlyReportOptions): Promise<string> {
  const { start, end, days } = monthBounds(options.month);
  const monthly = await db
    .selectFrom("vcenter_aggregate_totals")
    .selectAll()
    .where("kind", "=", "monthly")
    .where("period_start", "=", start)
    .orderBy("vcenter")
    .execute();
  const perDay = await db
    .selectFrom("vm_daily_rollup")
    .select(({ fn }) => [
      "day",
      fn.sum<number>("avg_is_present").as("vms"),
      fn.sum<number>("avg_vcpu_count").as("vcpus"),
      fn.sum<number>("avg_ram_gb").as("ram_gb"),
      fn.sum<number>("avg_provisioned_disk").as("disk"),
      fn.sum<number>("tin").as("tin"),
      fn.sum<number>("bronze").as("bronze"),
      fn.sum<number>("silver").as("silver"),
      fn.sum<number>("gold").as("gold"),
    ])
    .where("day", ">=", days[0] as string)
    .where("day", "<=", days[days.length - 1] as string)
    .groupBy("day")
    .orderBy("day")
    .execute();
  const rows = await db
    .selectFrom("vm_monthly_rollup")
    .selectAll()
    .where("month", "=", options.month)
    .orderBy("vcenter")
    .orderBy("name")
    .orderBy("vm_id")
    .execute();

  const totals = totalsTable(monthly.map((t) => totalsRow(periodLabel(start, end), t)));
  const dailyTotals: Table = {
    row: 0,
    col: 0,
    columns: [{ header: "Interval" }, ...TOTALS_COLUMNS.slice(2)],
    rows: perDay.map((d) => {
      const dayStart = dayBounds(d.day).start;
      return [
        periodLabel(dayStart, dayStart + 86400),
        ...[d.vms, d.vcpus, d.ram_gb, d.disk, d.tin, d.bronze, d.silver, d.gold].map(Number),
      ];
    }),
  };
  const vms = aggregateTable(rows);
  const beside = TOTALS_COLUMNS.length + 1;
  return writeReport(
    options.dir,
    `vctp-monthly-${options.month}`,
    [
      {
        name: "Totals",
        tables: [totals],
        charts: [
          {
            kind: "column",
            title: `Chargeback tiers per vCenter, ${options.month}`,
            table: 0,
            categories: 1,
            series: [6, 7, 8, 9],
            colors: TIER_COLORS,
            row: 1,
            col: beside,
          },
        ],
        fitToWidth: true,
      },
      {
        name: "Daily Totals",
        tables: [dailyTotals],
        charts: [
          {
            kind: "line",
            title: `VMs and vCPUs per day, ${options.month}`,
            table: 0,
            categories: 0,
            series: [1, 2],
            row: 1,
            col: dailyTotals.columns.length + 1,
          },
        ],
        fitToWidth: true,
      },
      { name: "VMs", tables: [vms] },
    ],
    vms,
  );
}

/** The reports in `dir`, newest first; files not named like a report are ignored. */
export async function listReports(dir: string): Promise<ReportFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const reports: ReportFile[] = [];
  for (const name of names) {
    const match = REPORT_NAME.exec(name);
    if (!match?.groups) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (!info?.isFile()) continue;
    const { hourly, daily, format } = match.groups;
    reports.push({
      name,
      kind: hourly ? "hourly" : daily ? "daily" : "monthly",
      format: format as ReportFile["format"],
      size: info.size,
      modified: iso(info.mtime),
    });
  }
  return reports.sort((a, b) => b.modified.localeCompare(a.modified) || b.name.localeCompare(a.name));
}

/**
 * The path of report `name` in `dir`, or undefined when no such report exists. Only report file names are accepted,
 * so a name can never reach outside `dir`.
 */
export async function resolveReport(dir: string, name: string): Promise<string | undefined> {
  if (!REPORT_NAME.test(name)) return undefined;
  const path = join(resolve(dir), name);
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? path : undefined;
}

function totalsTable(rows: CellValue[][]): Table {
  return { row: 0, col: 0, columns: TOTALS_COLUMNS, rows };
}

function totalsRow(label: string, t: TotalsRow): CellValue[] {
  return [
    label,
    t.vcenter,
    ...[t.vm_count, t.vcpus, t.ram_gb, t.provisioned_disk, t.tin, t.bronze, t.silver, t.gold].map(Number),
  ];
}

function aggregateTable(rows: readonly AggregateRow[]): Table {
  return {
    row: 0,
    col: 0,
    columns: AGGREGATE_COLUMNS,
    rows: rows.map((r) => [
      r.vcenter,
      r.vm_id,
      r.vm_uuid,
      r.name,
      r.resource_pool,
      r.cluster,
      r.datacenter,
      r.samples_present,
      r.total_samples,
      ...[
        r.avg_is_present,
        r.avg_vcpu_count,
        r.avg_ram_gb,
        r.avg_provisioned_disk,
        r.pool_tin_pct,
        r.pool_bronze_pct,
        r.pool_silver_pct,
        r.pool_gold_pct,
        r.tin,
        r.bronze,
        r.silver,
        r.gold,
      ].map(Number),
      unixCell(r.creation_time),
      unixCell(r.deletion_time),
      unixCell(r.snapshot_time),
    ]),
  };
}

/**
 * The hourly totals pivoted to one row per interval and a VMs and a vCPUs column per vCenter: a line per vCenter
 * needs its points in one contiguous range, aligned on the same intervals even when a vCenter missed some.
 */
function hourlySeries(totals: readonly TotalsRow[], row: number, col: number): Table {
  const vcenters = [...new Set(totals.map((t) => t.vcenter))].sort();
  const starts = [...new Set(totals.map((t) => Number(t.period_start)))].sort((a, b) => a - b);
  const byKey = new Map(totals.map((t) => [`${Number(t.period_start)}\u0000${t.vcenter}`, t]));
  return {
    row,
    col,
    columns: [
      { header: "Interval" },
      ...vcenters.flatMap((v) => [
        { header: `${shortName(v)} VMs`, format: DECIMAL },
        { header: `${shortName(v)} vCPUs`, format: DECIMAL },
      ]),
    ],
    rows: starts.map((s) => [
      hourLabel(s),
      ...vcenters.flatMap((v) => {
        const t = byKey.get(`${s}\u0000${v}`);
        return t ? [Number(t.vm_count), Number(t.vcpus)] : [null, null];
      }),
    ]),
  };
}

function seriesChart(title: string, table: number, data: Table, col: number): Chart {
  return {
    kind: "line",
    title,
    table,
    categories: 0,
    series: data.columns.slice(1).map((_, i) => i + 1),
    row: 1,
    col,
  };
}

async function writeReport(dir: string, base: string, sheets: Sheet[], vms: Table): Promise<string> {
  const target = resolve(dir);
  await mkdir(target, { recursive: true });
  const xlsx = join(target, `${base}.xlsx`);
  await writeAtomically(join(target, `${base}.csv`), toCsv(vms));
  await writeAtomically(xlsx, await buildWorkbook(sheets));
  return xlsx;
}

/** Readers (the reports page, downloads) never see a half-written file: write beside it, then rename over it. */
async function writeAtomically(path: string, data: string | Buffer): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Unix seconds as a date cell; 0 (vCenter did not say) as an empty cell. */
function unixCell(seconds: number): Date | null {
  const t = Number(seconds);
  return t > 0 ? new Date(t * 1000) : null;
}

function hourLabel(start: number): string {
  const date = new Date(start * 1000);
  const hour = date.getUTCHours();
  return `${date.toISOString().slice(0, 10)} ${pad(hour)}:00 to ${pad(hour + 1)}:00`;
}

function periodLabel(start: number, end: number): string {
  return `${new Date(start * 1000).toISOString().slice(0, 10)} to ${new Date(end * 1000).toISOString().slice(0, 10)}`;
}

function compactDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10).replaceAll("-", "");
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** A vCenter's host name, for legends: its SDK URL is mostly noise. */
function shortName(vcenter: string): string {
  try {
    return new URL(vcenter).hostname || vcenter;
  } catch {
    return vcenter;
  }
}

import type { ReportFile, ReportKind } from "../../reports/vsphere-reports.js";
import { TIERS, type Tier } from "../../usage/vm-rollup.js";
import type { latestTotals, listSnapshotRuns, periodTotals } from "../../vsphere/queries.js";
import { lineChart, TIER_COLORS } from "../charts.js";
import {
  emptyState,
  formatBytes,
  formatDuration,
  formatNumber,
  type Option,
  query,
  select,
  timeCell,
  truncate,
} from "../components.js";
import { html, type SafeHtml } from "../html.js";
import type { LatestRun } from "../queries.js";

export type LatestTotals = Awaited<ReturnType<typeof latestTotals>>[number];
export type PeriodTotal = Awaited<ReturnType<typeof periodTotals>>[number];
export type SnapshotRun = Awaited<ReturnType<typeof listSnapshotRuns>>[number];
type Totals = Omit<LatestTotals, "vcenter" | "snapshot_time">;

export const TOTALS_PAGE_SIZE = 50;
export const SNAPSHOTS_PAGE_SIZE = 50;
export const REPORTS_PAGE_SIZE = 100;
export const REPORT_KINDS: readonly ReportKind[] = ["hourly", "daily", "monthly"];

/** Where the data of each totals view comes from and how far back it may reach. */
export const TOTALS_RANGE = {
  daily: { defaultDays: 400, maxDays: 3660, choices: [30, 90, 180, 400, 730] },
  hourly: { defaultDays: 45, maxDays: 45, choices: [1, 2, 7, 14, 30, 45] },
} as const;

const TABS = [
  { id: "overview", label: "Overview", href: "/vcenters" },
  { id: "daily", label: "Daily totals", href: "/vcenters/totals/daily" },
  { id: "hourly", label: "Hourly detail (45 d)", href: "/vcenters/totals/hourly" },
  { id: "trace", label: "VM trace", href: "/vm/trace" },
  { id: "snapshots", label: "Snapshots", href: "/vcenters/snapshots" },
  { id: "chargeback", label: "Chargeback", href: "/vcenters/chargeback" },
  { id: "reports", label: "Reports", href: "/vcenters/reports" },
] as const;

type VcenterTab = (typeof TABS)[number]["id"];

/** The heading and sub-navigation every vCenter page starts with. */
export function vcenterHead(title: string, active: VcenterTab): SafeHtml {
  return html`<div class="page-head"><h1>${title}</h1></div>
  <nav class="tabs" aria-label="vCenter pages">
    ${TABS.map(
      (t) =>
        html`<a href="${t.href}"${t.id === active ? html` class="active" aria-current="page"` : ""}>${t.label}</a>`,
    )}
  </nav>`;
}

/** vCenters are known by their SDK URL, but the host is what people call them. */
export function vcenterHost(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** The host, with the whole URL in the title. */
export function vcenterName(url: string): SafeHtml {
  return html`<span class="vcenter" title="${url}">${vcenterHost(url)}</span>`;
}

const tierKey = (tier: Tier) => tier.toLowerCase() as Lowercase<Tier>;

const isoSeconds = (seconds: number) => new Date(seconds * 1000).toISOString();

function totalsCells(t: Totals): SafeHtml {
  return html`<td class="num">${formatNumber(t.vm_count)}</td>
    <td class="num">${formatNumber(t.vcpus)}</td>
    <td class="num">${formatNumber(t.ram_gb)}</td>
    <td class="num">${formatNumber(t.provisioned_disk)}</td>
    <td class="num tier-col">${formatNumber(t.tin)}</td>
    <td class="num">${formatNumber(t.bronze)}</td>
    <td class="num">${formatNumber(t.silver)}</td>
    <td class="num">${formatNumber(t.gold)}</td>`;
}

const TOTALS_HEADINGS = html`<th class="num">VMs</th><th class="num">vCPUs</th><th class="num">RAM GB</th>
  <th class="num">Disk GB</th><th class="num tier-col">Tin</th><th class="num">Bronze</th><th class="num">Silver</th>
  <th class="num">Gold</th>`;

function sum(rows: readonly Totals[]): Totals {
  const total: Totals = {
    vm_count: 0,
    vcpus: 0,
    ram_gb: 0,
    provisioned_disk: 0,
    tin: 0,
    bronze: 0,
    silver: 0,
    gold: 0,
  };
  for (const r of rows) {
    for (const key of Object.keys(total) as (keyof Totals)[]) total[key] += r[key];
  }
  return total;
}

function pageLink(url: string, target: string, label: string): SafeHtml {
  return html`<a class="button" href="${url}" hx-get="${url}" hx-target="${target}" hx-indicator="${target}"
    hx-push-url="true">${label}</a>`;
}

function pager(
  offset: number,
  shown: number,
  hasNext: boolean,
  size: number,
  url: (offset: number) => string,
  target: string,
) {
  if (offset === 0 && !hasNext) return html``;
  return html`<nav class="pager" aria-label="Pages">
    ${offset > 0 ? pageLink(url(Math.max(0, offset - size)), target, "← Newer") : html`<span></span>`}
    <span class="muted">${formatNumber(offset + 1)}–${formatNumber(offset + shown)}</span>
    ${hasNext ? pageLink(url(offset + size), target, "Older →") : html`<span></span>`}
  </nav>`;
}

// Overview

export interface OverviewView {
  totals: LatestTotals[];
  runs: LatestRun[];
  /** settings.vcenter_addresses, so a configured vCenter without any snapshot yet is listed too. */
  configured: readonly string[];
  now: Date;
}

const SETUP_HELP = html`<p>List the vCenter SDK URLs in <code>settings.vcenter_addresses</code> (with
  <code>settings.vcenter_username</code> and <code>settings.vcenter_password</code>), then take a first snapshot:</p>
  <pre class="command">npx fleetledger vsphere snapshot --once</pre>
  <p class="muted">The server then snapshots every vCenter each <code>settings.vcenter_inventory_snapshot_seconds</code>
  (hourly by default) and rolls the day up after midnight UTC.</p>`;

function lastRunCell(totals: LatestTotals | undefined, run: LatestRun | undefined, now: Date): SafeHtml {
  const success = totals ? timeCell(isoSeconds(totals.snapshot_time), now) : html`<span class="muted">never</span>`;
  if (run?.status !== "failed") return success;
  return html`${success}
    <span class="badge run-failed" title="${run.error ?? ""}">last run failed ${timeCell(isoSeconds(run.snapshot_time), now)}</span>`;
}

export function overviewPage(view: OverviewView): SafeHtml {
  const head = vcenterHead("vCenter", "overview");
  const names = [...new Set([...view.configured, ...view.totals.map((t) => t.vcenter)])].sort();
  if (names.length === 0) {
    return html`${head}<section class="card">${emptyState("No vCenter is configured yet.", SETUP_HELP)}</section>`;
  }
  const byName = new Map(view.totals.map((t) => [t.vcenter, t]));
  const runs = new Map(view.runs.map((r) => [r.vcenter, r]));
  const all = sum(view.totals);
  const stat = (label: string, value: number) =>
    html`<div class="stat"><span class="stat-value">${formatNumber(value)}</span><span class="stat-label">${label}</span></div>`;
  return html`${head}
  <div class="stats">
    ${stat(view.totals.length === 1 ? "vCenter with data" : "vCenters with data", view.totals.length)}
    ${stat("VMs", all.vm_count)}${stat("vCPUs", all.vcpus)}${stat("RAM GB", all.ram_gb)}
    ${stat("Disk GB", all.provisioned_disk)}
    <div class="stat wide">
      <span class="tier-counts">${TIERS.map(
        (tier) =>
          html`<span class="badge tier-${tierKey(tier)}">${tier} <strong>${formatNumber(all[tierKey(tier)])}</strong></span>`,
      )}</span>
      <span class="stat-label">VMs per tier (by resource pool)</span>
    </div>
  </div>
  <section class="card">
    <h2>Latest snapshot per vCenter</h2>
    <table class="data">
      <thead><tr><th>vCenter</th><th>Last snapshot</th>${TOTALS_HEADINGS}<th></th></tr></thead>
      <tbody>
        ${names.map((name) => {
          const t = byName.get(name);
          return html`<tr>
            <td>${vcenterName(name)}</td>
            <td>${lastRunCell(t, runs.get(name), view.now)}</td>
            ${t ? totalsCells(t) : html`<td colspan="8" class="muted">No successful snapshot yet.</td>`}
            <td class="links">${runs.has(name) && html`<a href="/vcenters/snapshots${query({ vcenter: name })}">runs</a>`}</td>
          </tr>`;
        })}
      </tbody>
      ${
        view.totals.length > 1 &&
        html`<tfoot><tr class="grand-total"><th>All vCenters</th><th></th>${totalsCells(all)}<th></th></tr></tfoot>`
      }
    </table>
    <p class="note">Counts are of the latest successful snapshot; tiers count VMs by resource pool name.
      Trends: <a href="/vcenters/totals/daily">daily totals</a> over 400 days and
      <a href="/vcenters/totals/hourly">hourly detail</a> over 45 days.</p>
  </section>`;
}

// Daily and hourly totals

export interface TotalsView {
  kind: "daily" | "hourly";
  days: number;
  offset: number;
  /** Every row of the range, oldest first, as periodTotals returns them. */
  rows: PeriodTotal[];
}

export const totalsUrl = (kind: TotalsView["kind"], days: number, offset = 0) =>
  `/vcenters/totals/${kind}${query({
    days: days === TOTALS_RANGE[kind].defaultDays ? undefined : days,
    offset: offset || undefined,
  })}`;

function periodLabel(kind: TotalsView["kind"], start: number): SafeHtml {
  const iso = isoSeconds(start);
  if (kind === "daily") return html`<time datetime="${iso.slice(0, 10)}">${iso.slice(0, 10)}</time>`;
  const end = isoSeconds(start + 3600);
  // Each hourly row is the interval [HH:00, HH+1:00), not an instant.
  return html`<time datetime="${iso}" title="${iso} to ${end}">${iso.slice(0, 10)} ${iso.slice(11, 16)}–${end.slice(11, 16)}</time>`;
}

function totalsCharts(view: TotalsView): SafeHtml {
  const byPeriod = new Map<number, PeriodTotal[]>();
  for (const r of view.rows) {
    const rows = byPeriod.get(r.period_start);
    if (rows) rows.push(r);
    else byPeriod.set(r.period_start, [r]);
  }
  const x = [...byPeriod.keys()].sort((a, b) => a - b);
  const vcenters = [...new Set(view.rows.map((r) => r.vcenter))].sort();
  const perVcenter = (field: "vm_count" | "vcpus" | "ram_gb") =>
    vcenters.map((vc) => ({
      label: vcenterHost(vc),
      y: x.map((t) => byPeriod.get(t)?.find((r) => r.vcenter === vc)?.[field] ?? null),
    }));
  const totals = x.map((t) => sum(byPeriod.get(t) ?? []));
  const tiers = TIERS.map((tier) => ({
    label: tier,
    y: totals.map((t) => t[tierKey(tier)]),
    color: TIER_COLORS[tier],
  }));
  const step = view.kind === "daily" ? "day" : "hour";
  // An hour's totals hold for the whole hour; days are averages, where a line between them reads as the trend.
  const stepped = view.kind === "hourly";
  const range = `${view.kind} over the last ${view.days} days`;
  const perVcenterChart = (title: string, field: "vm_count" | "vcpus" | "ram_gb") =>
    lineChart(
      `${title} per vCenter`,
      { x, step, stepped, series: perVcenter(field) },
      `${title} per vCenter, ${range}`,
    );
  return html`<div class="chart-grid">
    ${perVcenterChart("VMs", "vm_count")}
    ${perVcenterChart("vCPUs", "vcpus")}
    ${perVcenterChart("RAM GB", "ram_gb")}
    ${lineChart(
      html`VMs per tier <span class="hint">all vCenters, stacked</span>`,
      { x, step, stepped, series: tiers, stacked: true },
      `VMs per tier across all vCenters, stacked, ${range}`,
    )}
  </div>`;
}

/** The part the pager reloads. */
export function totalsTable(view: TotalsView): SafeHtml {
  const newestFirst = [...view.rows].sort(
    (a, b) => b.period_start - a.period_start || a.vcenter.localeCompare(b.vcenter),
  );
  const rows = newestFirst.slice(view.offset, view.offset + TOTALS_PAGE_SIZE);
  if (rows.length === 0)
    return emptyState(
      "No rows on this page.",
      html`<a href="${totalsUrl(view.kind, view.days)}">Back to the newest</a>`,
    );
  return html`<table class="data">
    <thead><tr><th>${view.kind === "daily" ? "Day (UTC)" : "Hour (UTC)"}</th><th>vCenter</th>${TOTALS_HEADINGS}</tr></thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr><td>${periodLabel(view.kind, r.period_start)}</td><td>${vcenterName(r.vcenter)}</td>${totalsCells(r)}</tr>`,
      )}
    </tbody>
  </table>
  ${pager(
    view.offset,
    rows.length,
    view.offset + TOTALS_PAGE_SIZE < newestFirst.length,
    TOTALS_PAGE_SIZE,
    (offset) => totalsUrl(view.kind, view.days, offset),
    "#totals-table",
  )}`;
}

export function totalsPage(view: TotalsView): SafeHtml {
  const { kind, days } = view;
  const range = TOTALS_RANGE[kind];
  const choices: Option[] = [...new Set([...range.choices, days])]
    .sort((a, b) => a - b)
    .map((d) => ({ value: String(d), label: d === 1 ? "1 day" : `${d} days` }));
  const url = `/vcenters/totals/${kind}`;
  const form = html`<form class="filters" method="get" action="${url}">
    ${select("days", "Range", choices, String(days))}
    <button type="submit">Show</button>
  </form>`;
  const title = kind === "daily" ? "Daily totals" : "Hourly detail";
  const head = vcenterHead(title, kind);
  if (view.rows.length === 0) {
    return html`${head}${form}<section class="card">${emptyState(
      `No ${kind} totals in the last ${days} days.`,
      kind === "daily"
        ? html`Daily totals are written by the daily rollup after midnight UTC, or now with
            <code>npx fleetledger vsphere aggregate --daily YYYY-MM-DD</code>.`
        : html`Hourly totals are written with each snapshot: <code>npx fleetledger vsphere snapshot --once</code>.`,
    )}</section>`;
  }
  const explain =
    kind === "daily"
      ? "Each day's totals are averages over its snapshots: a VM present half the day counts as 0.5."
      : "Each hour [HH:00, HH+1:00) is described by the first snapshot at or after its end; VMs created or deleted within it count prorated.";
  return html`${head}${form}
  <section class="card">
    <h2>${title} <span class="muted">last ${days} days · ${formatNumber(new Set(view.rows.map((r) => r.period_start)).size)} ${kind === "daily" ? "days" : "hours"} with data</span></h2>
    ${totalsCharts(view)}
    <p class="note">${explain}</p>
  </section>
  <section class="card">
    <h2>Per vCenter <span class="muted">newest first</span></h2>
    <div id="totals-table">${totalsTable(view)}</div>
  </section>`;
}

// Snapshot runs

export interface SnapshotsView {
  vcenter: string | undefined;
  vcenters: string[];
  offset: number;
  /** One page of runs, plus one more when a next page exists. */
  runs: SnapshotRun[];
  now: Date;
}

export const snapshotsUrl = (vcenter: string | undefined, offset = 0) =>
  `/vcenters/snapshots${query({ vcenter, offset: offset || undefined })}`;

function statusBadge(status: string): SafeHtml {
  return html`<span class="badge run-${status === "success" ? "success" : "failed"}">${status}</span>`;
}

/** The part the filter and pager reload. */
export function snapshotsTable(view: SnapshotsView): SafeHtml {
  const rows = view.runs.slice(0, SNAPSHOTS_PAGE_SIZE);
  if (rows.length === 0) {
    return view.vcenter || view.offset > 0
      ? emptyState("No snapshot runs match.", html`<a href="/vcenters/snapshots">Show every run</a>`)
      : emptyState("No snapshot has run yet.", SETUP_HELP);
  }
  return html`<table class="data">
    <thead><tr>
      <th>vCenter</th><th>Snapshot time (UTC)</th><th>Status</th><th class="num">VMs</th><th class="num">Duration</th>
      <th class="num">Round trips</th><th class="num">Attempts</th><th>Error</th>
    </tr></thead>
    <tbody>
      ${rows.map(
        (r) => html`<tr${r.status === "success" ? "" : html` class="run-failed-row"`}>
          <td>${vcenterName(r.vcenter)}</td>
          <td>${timeCell(r.snapshot_at, view.now)} <span class="muted">${r.snapshot_at.slice(0, 16).replace("T", " ")}</span></td>
          <td>${statusBadge(r.status)}</td>
          ${
            r.status === "success"
              ? html`<td class="num">${formatNumber(r.rows)}</td>
                <td class="num">${formatDuration(r.duration_ms)}</td>
                <td class="num">${formatNumber(r.round_trips)}</td>`
              : html`<td class="num muted">–</td><td class="num muted">–</td><td class="num muted">–</td>`
          }
          <td class="num">${formatNumber(r.attempts)}</td>
          <td class="error-text"${r.error ? html` title="${r.error}"` : ""}>${truncate(r.error ?? "", 200)}</td>
        </tr>`,
      )}
    </tbody>
  </table>
  ${pager(
    view.offset,
    rows.length,
    view.runs.length > SNAPSHOTS_PAGE_SIZE,
    SNAPSHOTS_PAGE_SIZE,
    (offset) => snapshotsUrl(view.vcenter, offset),
    "#snapshots-table",
  )}`;
}

export function snapshotsPage(view: SnapshotsView): SafeHtml {
  const options = [
    { value: "", label: "All vCenters" },
    ...view.vcenters.map((v) => ({ value: v, label: vcenterHost(v) })),
  ];
  return html`${vcenterHead("Snapshot runs", "snapshots")}
  <form class="filters" method="get" action="/vcenters/snapshots" hx-get="/vcenters/snapshots"
    hx-target="#snapshots-table" hx-indicator="#snapshots-table" hx-trigger="change, submit" hx-push-url="true">
    ${select("vcenter", "vCenter", options, view.vcenter)}
    <button type="submit">Filter</button>
  </form>
  <section class="card">
    <div id="snapshots-table">${snapshotsTable(view)}</div>
  </section>`;
}

// Report files

export interface ReportsView {
  kind: ReportKind | undefined;
  offset: number;
  /** Every report of the selected kind, newest first. */
  reports: ReportFile[];
  now: Date;
}

export const reportsUrl = (kind: ReportKind | undefined, offset = 0) =>
  `/vcenters/reports${query({ kind, offset: offset || undefined })}`;

/** The part the pager reloads. */
export function reportsTable(view: ReportsView): SafeHtml {
  const rows = view.reports.slice(view.offset, view.offset + REPORTS_PAGE_SIZE);
  if (rows.length === 0) {
    return view.kind || view.offset > 0
      ? emptyState("No reports match.", html`<a href="/vcenters/reports">Show every report</a>`)
      : emptyState(
          "No reports written yet.",
          html`An XLSX report and its CSV twin are written to <code>settings.reports_dir</code> (by default
            <code>reports</code> under the data folder) after each snapshot, daily and monthly rollup.`,
        );
  }
  return html`<table class="data">
    <thead><tr><th>File</th><th>Kind</th><th>Format</th><th class="num">Size</th><th>Modified</th></tr></thead>
    <tbody>
      ${rows.map(
        (r) => html`<tr>
          <td><a href="/api/vsphere/reports/${encodeURIComponent(r.name)}" download><code>${r.name}</code></a></td>
          <td><span class="badge kind-${r.kind}">${r.kind}</span></td>
          <td>${r.format.toUpperCase()}</td>
          <td class="num">${formatBytes(r.size)}</td>
          <td>${timeCell(r.modified, view.now)}</td>
        </tr>`,
      )}
    </tbody>
  </table>
  ${pager(
    view.offset,
    rows.length,
    view.offset + REPORTS_PAGE_SIZE < view.reports.length,
    REPORTS_PAGE_SIZE,
    (offset) => reportsUrl(view.kind, offset),
    "#reports-table",
  )}`;
}

export function reportsPage(view: ReportsView): SafeHtml {
  const tab = (kind: ReportKind | undefined, label: string) =>
    html`<a href="${reportsUrl(kind)}"${view.kind === kind ? html` class="active" aria-current="page"` : ""}>${label}</a>`;
  return html`${vcenterHead("Reports", "reports")}
  <section class="card">
    <nav class="tabs small" aria-label="Report kind">
      ${tab(undefined, "All")}${tab("hourly", "Hourly")}${tab("daily", "Daily")}${tab("monthly", "Monthly")}
    </nav>
    <div id="reports-table">${reportsTable(view)}</div>
  </section>`;
}

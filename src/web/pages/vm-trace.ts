import { tierOf } from "../../usage/vm-rollup.js";
import type { TracePoint } from "../../vsphere/queries.js";
import { type LineChartSpec, lineChart } from "../charts.js";
import { emptyState, formatNumber, query, select, timeCell } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import type { VmIdentity, VmMatch } from "../queries.js";
import { vcenterHead, vcenterName } from "./vcenters.js";

export const TRACE_VIEWS = ["hourly", "daily"] as const;
export type TraceMode = (typeof TRACE_VIEWS)[number];

/** Hourly points come from the samples (kept 60 days by default), daily ones from the rollup (kept 12 months). */
export const TRACE_RANGE = {
  hourly: { defaultDays: 7, maxDays: 60, choices: [1, 2, 7, 14, 30, 45, 60] },
  daily: { defaultDays: 90, maxDays: 400, choices: [30, 90, 180, 400] },
} as const;

export const SEARCH_LIMIT = 50;

export interface TraceView {
  term: string;
  mode: TraceMode;
  days: number;
  /** The VM whose VmId is the term. */
  vm: { identity: VmIdentity; points: TracePoint[] } | undefined;
  /** VMs whose name contains the term, when it is no VmId. */
  matches: VmMatch[];
  now: Date;
}

export const traceUrl = (vm: string, mode: TraceMode, days?: number) =>
  `/vm/trace${query({
    vm,
    view: mode === "hourly" ? undefined : mode,
    days: days === undefined || days === TRACE_RANGE[mode].defaultDays ? undefined : days,
  })}`;

const isoSeconds = (seconds: number) => new Date(seconds * 1000).toISOString();

function poolBadge(pool: string): SafeHtml {
  const tier = tierOf(pool);
  return tier ? html`<span class="badge tier-${tier.toLowerCase()}">${pool}</span>` : html`${pool}`;
}

function searchForm(view: TraceView): SafeHtml {
  const range = TRACE_RANGE[view.mode];
  const days = [...new Set([...range.choices, view.days])]
    .sort((a, b) => a - b)
    .map((d) => ({ value: String(d), label: d === 1 ? "1 day" : `${d} days` }));
  return html`<form class="filters" method="get" action="/vm/trace" role="search">
    <label class="grow">VM
      <input type="text" name="vm" value="${view.term}" placeholder="VmId (vm-123) or part of its name"
        autocomplete="off" spellcheck="false">
    </label>
    ${select(
      "view",
      "View",
      TRACE_VIEWS.map((m) => ({ value: m, label: m === "hourly" ? "Hourly (every snapshot)" : "Daily (rollup)" })),
      view.mode,
    )}
    ${select("days", "Range", days, String(view.days))}
    <button type="submit" class="primary">Trace</button>
  </form>`;
}

function identityFacts(vm: VmIdentity, now: Date): SafeHtml {
  const at = (seconds: number) => timeCell(isoSeconds(seconds), now);
  return html`<dl class="facts">
    <div><dt>VmId</dt><dd><code>${vm.vm_id}</code></dd></div>
    <div><dt>vCenter</dt><dd>${vcenterName(vm.vcenter)}</dd></div>
    <div><dt>Resource pool</dt><dd>${poolBadge(vm.resource_pool)}</dd></div>
    <div><dt>Cluster</dt><dd>${vm.cluster}</dd></div>
    <div><dt>Datacenter</dt><dd>${vm.datacenter}</dd></div>
    <div><dt>Folder</dt><dd><code>${vm.folder}</code></dd></div>
    ${vm.creation_time > 0 && html`<div><dt>Created</dt><dd>${at(vm.creation_time)}</dd></div>`}
    <div><dt>${vm.deletion_time > 0 ? "Gone since" : "Last seen"}</dt><dd>${at(vm.deletion_time || vm.last_seen)}</dd></div>
  </dl>`;
}

function traceCharts(mode: TraceMode, points: TracePoint[]): SafeHtml {
  const x = points.map((p) => p.time);
  const hourly = mode === "hourly";
  // An hourly point without the VM carries zeros; a gap says "not there" where zero would read as "shrunk to nothing".
  const metric = (value: (p: TracePoint) => number) => points.map((p) => (hourly && p.present === 0 ? null : value(p)));
  const spec = (label: string, y: (number | null)[], color: string, range?: [number, number]): LineChartSpec => ({
    x,
    step: hourly ? "hour" : "day",
    series: [{ label, y, color }],
    stepped: hourly,
    ...(range ? { range } : {}),
  });
  const what = hourly ? "at every snapshot" : "averaged per day";
  return html`<div class="chart-grid">
    ${lineChart(
      "vCPUs",
      spec(
        "vCPUs",
        metric((p) => p.VcpuCount),
        "#2563eb",
      ),
      `vCPUs of the VM ${what}`,
    )}
    ${lineChart(
      "RAM GB",
      spec(
        "RAM GB",
        metric((p) => p.RamGB),
        "#16a34a",
      ),
      `RAM in GB of the VM ${what}`,
    )}
    ${lineChart(
      "Disk GB",
      spec(
        "Disk GB",
        metric((p) => p.ProvisionedDisk),
        "#9333ea",
      ),
      `Provisioned disk in GB ${what}`,
    )}
    ${lineChart(
      html`Presence <span class="hint">${hourly ? "1 = in the snapshot" : "share of the day's snapshots"}</span>`,
      spec(
        "present",
        points.map((p) => p.present),
        "#ea580c",
        [0, 1],
      ),
      `Presence of the VM ${what}`,
    )}
  </div>`;
}

interface Change {
  time: number;
  what: string;
  detail: string;
}

/** What changed between consecutive snapshots: appearing, vanishing, resizing and moving between pools. */
function hourlyChanges(points: TracePoint[]): Change[] {
  const changes: Change[] = [];
  let previous: TracePoint | undefined;
  for (const p of points) {
    if (p.present === 0) {
      if (previous?.present === 1) changes.push({ time: p.time, what: "vanished", detail: "not in this snapshot" });
      previous = p;
      continue;
    }
    if (previous?.present === 0) changes.push({ time: p.time, what: "appeared", detail: `as ${p.Name}` });
    const last = previous?.present === 1 ? previous : undefined;
    if (last) {
      const sizes: string[] = [];
      if (last.VcpuCount !== p.VcpuCount) sizes.push(`vCPUs ${last.VcpuCount} → ${p.VcpuCount}`);
      if (last.RamGB !== p.RamGB) sizes.push(`RAM GB ${formatNumber(last.RamGB)} → ${formatNumber(p.RamGB)}`);
      if (last.ProvisionedDisk !== p.ProvisionedDisk) {
        sizes.push(`disk GB ${formatNumber(last.ProvisionedDisk)} → ${formatNumber(p.ProvisionedDisk)}`);
      }
      if (sizes.length > 0) changes.push({ time: p.time, what: "resized", detail: sizes.join(", ") });
      if (last.ResourcePool !== p.ResourcePool) {
        changes.push({ time: p.time, what: "moved", detail: `pool ${last.ResourcePool} → ${p.ResourcePool}` });
      }
      if (last.Name !== p.Name) changes.push({ time: p.time, what: "renamed", detail: `${last.Name} → ${p.Name}` });
    }
    previous = p;
  }
  return changes.reverse();
}

function changesTable(points: TracePoint[]): SafeHtml {
  const changes = hourlyChanges(points);
  if (changes.length === 0) {
    return emptyState("No changes in this range.", "The VM kept its size, pool and name in every snapshot.");
  }
  return html`<table class="data">
    <thead><tr><th>Snapshot (UTC)</th><th>Change</th><th>Details</th></tr></thead>
    <tbody>
      ${changes.map(
        (c) => html`<tr>
          <td><time datetime="${isoSeconds(c.time)}">${isoSeconds(c.time).slice(0, 16).replace("T", " ")}</time></td>
          <td><span class="badge trace-${c.what}">${c.what}</span></td>
          <td>${c.detail}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function dailyTable(points: TracePoint[]): SafeHtml {
  return html`<table class="data">
    <thead><tr>
      <th>Day (UTC)</th><th class="num">Present</th><th class="num">Avg vCPUs</th><th class="num">Avg RAM GB</th>
      <th class="num">Avg disk GB</th><th>Pool</th>
    </tr></thead>
    <tbody>
      ${[...points].reverse().map(
        (p) => html`<tr>
          <td>${isoSeconds(p.time).slice(0, 10)}</td>
          <td class="num">${formatNumber(p.present * 100)} %</td>
          <td class="num">${formatNumber(p.VcpuCount)}</td>
          <td class="num">${formatNumber(p.RamGB)}</td>
          <td class="num">${formatNumber(p.ProvisionedDisk)}</td>
          <td>${poolBadge(p.ResourcePool)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function vmSection(view: TraceView, vm: NonNullable<TraceView["vm"]>): SafeHtml {
  const { identity, points } = vm;
  const tab = (mode: TraceMode, label: string) =>
    html`<a href="${traceUrl(identity.vm_id, mode)}"${view.mode === mode ? html` class="active" aria-current="page"` : ""}>${label}</a>`;
  const window = `last ${view.days} ${view.days === 1 ? "day" : "days"}`;
  const body =
    points.length === 0
      ? emptyState(
          `No ${view.mode} points in the ${window}.`,
          view.mode === "hourly"
            ? html`Its samples may have aged out; try the <a href="${traceUrl(identity.vm_id, "daily")}">daily view</a>.`
            : html`Daily points appear once the days it existed have been rolled up.`,
        )
      : html`${traceCharts(view.mode, points)}
        <h2>${view.mode === "hourly" ? "Changes" : "Per day"} <span class="muted">newest first</span></h2>
        ${view.mode === "hourly" ? changesTable(points) : dailyTable(points)}`;
  return html`<section class="card vm-trace">
    <div class="vm-title">
      <h2>${identity.name}</h2>
      ${identity.deletion_time > 0 && html`<span class="badge run-failed">deleted</span>`}
    </div>
    ${identityFacts(identity, view.now)}
    <nav class="tabs small" aria-label="Trace view">${tab("hourly", "Hourly")}${tab("daily", "Daily")}</nav>
    <p class="note">${
      view.mode === "hourly"
        ? `Every snapshot of its vCenter in the ${window}: the VM's size when present, a gap when it was not.`
        : `The daily rollup of the ${window}: averages over each day's snapshots, so a VM present half a day shows 50 %.`
    }</p>
    ${body}
  </section>`;
}

function matchesSection(view: TraceView): SafeHtml {
  return html`<section class="card">
    <h2>VMs matching “${view.term}” <span class="muted">${view.matches.length}${view.matches.length === SEARCH_LIMIT ? "+" : ""} found, most recently seen first</span></h2>
    <table class="data">
      <thead><tr><th>Name</th><th>VmId</th><th>vCenter</th><th>Last seen</th></tr></thead>
      <tbody>
        ${view.matches.map(
          (m) => html`<tr>
            <td><a href="${traceUrl(m.vm_id, view.mode, view.days)}">${m.name}</a></td>
            <td><code>${m.vm_id}</code></td>
            <td>${vcenterName(m.vcenter)}</td>
            <td>${timeCell(isoSeconds(m.last_seen), view.now)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

export function tracePage(view: TraceView): SafeHtml {
  const head = html`${vcenterHead("VM trace", "trace")}${searchForm(view)}`;
  if (view.vm) return html`${head}${vmSection(view, view.vm)}`;
  if (view.matches.length > 0) return html`${head}${matchesSection(view)}`;
  if (!view.term) {
    return html`${head}<section class="card">${emptyState(
      "Trace a VM over time.",
      "Enter its VmId, or part of its name to pick it from a list.",
    )}</section>`;
  }
  return html`${head}<section class="card">${emptyState(
    `No VM matches “${view.term}”.`,
    "Neither a VmId nor part of a name of any VM in the latest snapshots or the daily rollup.",
  )}</section>`;
}

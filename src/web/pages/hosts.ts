import type { Organization } from "../../systems/registry.js";
import { emptyState, formatNumber, orgStatusFilters, query, timeCell } from "../components.js";
import { HOST_THRESHOLDS, levelOf, type ThresholdName } from "../host-thresholds.js";
import { html, type SafeHtml } from "../html.js";
import { HOST_STATUSES, type HostReadings, type HostStatus, type HostSummary } from "../telemetry-queries.js";

export const HOSTS_PAGE_SIZE = 100;
/** How often the table reloads itself; the agents push about twice a minute. */
export const HOSTS_REFRESH_SECONDS = 30;
/** The id htmx sends as HX-Trigger on the table's own reloads, which must not add history entries. */
export const HOSTS_REFRESH_ID = "hosts-refresh";

export interface HostsFilter {
  org: string | undefined;
  status: HostStatus | undefined;
  offset: number;
}

export interface HostsView {
  filter: HostsFilter;
  organizations: Organization[];
  /** One page of hosts, plus one more row when a next page exists. */
  hosts: HostSummary[];
  readings: Map<string, HostReadings>;
  /** Hosts seen at or after this are online. */
  onlineSince: Date;
  now: Date;
  /** This server's address as the browser reached it, for the enrolment command. */
  serverUrl: string;
}

export const hostsUrl = (filter: HostsFilter, offset = filter.offset) =>
  `/hosts${query({ org: filter.org, status: filter.status, offset: offset || undefined })}`;

export function isOnline(host: HostSummary, onlineSince: Date): boolean {
  return host.last_seen_at !== null && host.last_seen_at >= onlineSince.toISOString();
}

export function onlineDot(online: boolean): SafeHtml {
  const state = online ? "online" : "offline";
  return html`<span class="status host-${state}"><span class="dot" aria-hidden="true"></span>${state}</span>`;
}

const LEVEL_WORDS = { warn: "high", crit: "critical" } as const;

const formatTemp = (v: number) => `${Math.round(v)} °C`;
const formatPercent = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
const formatWatts = (v: number) => `${formatNumber(Math.round(v))} W`;

/**
 * A reading's cell: amber or red past its threshold, with the level also written out, so the state does not rest on
 * colour alone; the title states the limit it crossed.
 */
function readingCell(value: number | undefined, format: (v: number) => string, threshold?: ThresholdName) {
  if (value === undefined) return html`<td class="num"><span class="muted" title="no data">–</span></td>`;
  const level = threshold ? levelOf(threshold, value) : "ok";
  if (level === "ok" || !threshold) return html`<td class="num">${format(value)}</td>`;
  const limits = HOST_THRESHOLDS[threshold];
  const word = LEVEL_WORDS[level];
  return html`<td class="num"><span class="reading level-${level}" title="${word}: at or above ${limits[level]} ${limits.unit}">${format(value)} <span class="level-tag">${word}</span></span></td>`;
}

function pageLink(filter: HostsFilter, offset: number, label: string): SafeHtml {
  const url = hostsUrl(filter, offset);
  return html`<a class="button" href="${url}" hx-get="${url}" hx-target="#hosts-table" hx-push-url="true">${label}</a>`;
}

function pager(view: HostsView): SafeHtml {
  const { filter } = view;
  const hasNext = view.hosts.length > HOSTS_PAGE_SIZE;
  if (filter.offset === 0 && !hasNext) return html``;
  const first = filter.offset + 1;
  const last = filter.offset + Math.min(view.hosts.length, HOSTS_PAGE_SIZE);
  return html`<nav class="pager" aria-label="Pages">
    ${filter.offset > 0 ? pageLink(filter, Math.max(0, filter.offset - HOSTS_PAGE_SIZE), "← Previous") : html`<span></span>`}
    <span class="muted">${first}–${last}</span>
    ${hasNext ? pageLink(filter, filter.offset + HOSTS_PAGE_SIZE, "Next →") : html`<span></span>`}
  </nav>`;
}

function noHosts(filter: HostsFilter, serverUrl: string): SafeHtml {
  if (filter.org || filter.status || filter.offset > 0) {
    return emptyState("No hosts match these filters.", html`<a href="/hosts">Show all hosts</a>`);
  }
  return emptyState(
    "No agents yet.",
    html`<p>Create an enrolment token, then enrol and start the agent on each host with it:</p>
      <pre class="command">npx fleetledger token create --name agents --role enroll</pre>
      <pre class="command">npx fleetledger agent enroll --server ${serverUrl} --token TOKEN
npx fleetledger agent install-service</pre>
      <p class="muted">A host appears here once its agent has registered or pushed its first metrics.</p>`,
  );
}

function hostRow(host: HostSummary, view: HostsView): SafeHtml {
  const r = view.readings.get(host.id) ?? {};
  return html`<tr>
    <td>${onlineDot(isOnline(host, view.onlineSince))}</td>
    <td><a href="/hosts/${encodeURIComponent(host.id)}">${host.name}</a>${
      host.hostname && host.hostname !== host.name ? html`<div class="muted small">${host.hostname}</div>` : ""
    }</td>
    <td>${host.org_name}</td>
    <td>${timeCell(host.last_seen_at, view.now)}</td>
    ${readingCell(r.cpu_temp, formatTemp, "cpu_temp")}
    ${readingCell(r.gpu_temp, formatTemp, "gpu_temp")}
    ${readingCell(r.nvme_temp, formatTemp, "nvme_temp")}
    ${readingCell(r.gpu_power, formatWatts)}
    ${readingCell(r.cpu_percent, formatPercent, "cpu_percent")}
    ${readingCell(r.ram_percent, formatPercent, "ram_percent")}
    ${readingCell(r.disk_percent, formatPercent, "disk_percent")}
  </tr>`;
}

/**
 * The part the filter form and the periodic reload replace. Its root carries its own reload URL, so after a filter
 * change the reload keeps the new filter.
 */
export function hostsTable(view: HostsView): SafeHtml {
  const rows = view.hosts.slice(0, HOSTS_PAGE_SIZE);
  const url = hostsUrl(view.filter);
  return html`<div id="${HOSTS_REFRESH_ID}" hx-get="${url}" hx-trigger="every ${HOSTS_REFRESH_SECONDS}s"
    hx-target="#hosts-table">
    ${
      rows.length === 0
        ? noHosts(view.filter, view.serverUrl)
        : html`<table class="data hosts">
      <thead><tr>
        <th>Status</th><th>Host</th><th>Organization</th><th>Last seen</th>
        <th class="num">CPU temp</th><th class="num">GPU temp</th><th class="num">NVMe temp</th>
        <th class="num">GPU power</th><th class="num">CPU</th><th class="num">RAM</th><th class="num">Disk /</th>
      </tr></thead>
      <tbody>${rows.map((host) => hostRow(host, view))}</tbody>
    </table>
    ${pager(view)}`
    }
  </div>`;
}

export function hostsPage(view: HostsView): SafeHtml {
  const { filter } = view;
  return html`<div class="page-head"><h1>Hosts</h1>
    <span class="muted">Readings are each host's latest; online means seen in the last ${Math.round(
      (view.now.getTime() - view.onlineSince.getTime()) / 60_000,
    )} min. The table reloads every ${HOSTS_REFRESH_SECONDS} s.</span></div>
  ${orgStatusFilters("/hosts", "hosts-table", view.organizations, HOST_STATUSES, filter)}
  <div id="hosts-table">${hostsTable(view)}</div>`;
}

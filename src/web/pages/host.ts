import { emptyState, query, timeCell } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import type { HostSummary } from "../telemetry-queries.js";
import { onlineDot } from "./hosts.js";

export type HostTab = "charts" | "logs" | "commands";

export interface HostHead {
  host: HostSummary;
  online: boolean;
  /** The agent holds its command socket to this server process. */
  connected: boolean;
  now: Date;
}

const TABS: { id: HostTab; label: string; path: string }[] = [
  { id: "charts", label: "Charts", path: "" },
  { id: "logs", label: "Logs", path: "/logs" },
  { id: "commands", label: "Commands", path: "/commands" },
];

export const hostPath = (id: string, tab: HostTab = "charts") =>
  `/hosts/${encodeURIComponent(id)}${TABS.find((t) => t.id === tab)?.path ?? ""}`;

/** Title, facts and tabs shared by the three tabs of a host. */
export function hostHead(head: HostHead, active: HostTab): SafeHtml {
  const { host, now } = head;
  return html`<div class="crumbs"><a href="/hosts">Hosts</a> /</div>
  <div class="page-head"><h1>${host.name}</h1>${onlineDot(head.online)}</div>
  <dl class="facts">
    <div><dt>Hostname</dt><dd>${host.hostname ?? html`<span class="muted">not registered</span>`}</dd></div>
    <div><dt>Organization</dt><dd>${host.org_name}</dd></div>
    <div><dt>Agent version</dt><dd>${host.agent_version ?? html`<span class="muted">unknown</span>`}</dd></div>
    <div><dt>Registered</dt><dd>${timeCell(host.registered_at, now, "not registered")}</dd></div>
    <div><dt>Last seen</dt><dd>${timeCell(host.last_seen_at, now)}</dd></div>
    <div><dt>Commands</dt><dd>${
      head.connected
        ? html`<span class="status host-online"><span class="dot" aria-hidden="true"></span>connected</span>`
        : html`<span class="muted">not connected</span>`
    }</dd></div>
    <div><dt>Inventory</dt><dd><a href="/systems/${encodeURIComponent(host.id)}">system page</a></dd></div>
  </dl>
  <nav class="tabs" aria-label="Host sections">
    ${TABS.map(
      (t) =>
        html`<a href="${hostPath(host.id, t.id)}"${t.id === active ? html` class="active" aria-current="page"` : ""}>${t.label}</a>`,
    )}
  </nav>`;
}

/** The ranges the chart toolbar offers, in seconds. */
export const RANGES = [
  { id: "5m", seconds: 300 },
  { id: "1h", seconds: 3600 },
  { id: "6h", seconds: 6 * 3600 },
  { id: "24h", seconds: 86_400 },
  { id: "7d", seconds: 7 * 86_400 },
  { id: "30d", seconds: 30 * 86_400 },
  { id: "90d", seconds: 90 * 86_400 },
] as const;
export type RangeId = (typeof RANGES)[number]["id"];
export const DEFAULT_RANGE: RangeId = "1h";

/** What a datetime-local field submits; read as UTC, like every time the dashboard shows. */
export const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

export type ChartRange = { range: RangeId } | { from: string; to: string | undefined };

/** One line of a chart: a timeseries API query for the host, aggregated over the metric's series. */
export interface ChartLine {
  label: string;
  metric: string;
  aggregation: "sum" | "avg" | "max";
  /** Per-second rate of a counter, from /api/timeseries/{metric}/rate. */
  rate?: boolean;
  /** The API's label filter. */
  labels?: string;
}

export interface ChartDefinition {
  title: string;
  unit: "°C" | "%" | "W" | "B/s";
  lines: ChartLine[];
}

/**
 * The host charts, which static/hosts.js queries and draws. The CPU line reads the host's CPU sensors by name, as
 * the Hosts table does; a host without IPMI CPU sensors has none.
 */
export function hostCharts(cpuSensors: string[]): ChartDefinition[] {
  const cpu: ChartLine[] =
    cpuSensors.length === 0
      ? []
      : [
          {
            label: "CPU (max)",
            metric: "ipmi_temp_celsius",
            aggregation: "max",
            labels: JSON.stringify(cpuSensors.map((sensor) => ({ sensor }))),
          },
        ];
  return [
    {
      title: "Temperatures",
      unit: "°C",
      lines: [
        ...cpu,
        { label: "GPU (max)", metric: "gpu_temperature", aggregation: "max" },
        { label: "NVMe (max)", metric: "nvme_temperature_celsius", aggregation: "max" },
      ],
    },
    ...FIXED_CHARTS,
  ];
}

const FIXED_CHARTS: ChartDefinition[] = [
  {
    title: "CPU and GPU utilisation",
    unit: "%",
    lines: [
      { label: "CPU", metric: "cpu_usage_percent", aggregation: "avg" },
      { label: "GPU (avg)", metric: "gpu_utilization_gpu", aggregation: "avg" },
    ],
  },
  {
    title: "Memory used",
    unit: "%",
    lines: [{ label: "RAM", metric: "memory_usage_percent", aggregation: "avg" }],
  },
  {
    title: "GPU power",
    unit: "W",
    lines: [{ label: "all GPUs", metric: "gpu_power_draw", aggregation: "sum" }],
  },
  {
    title: "Network",
    unit: "B/s",
    lines: [
      { label: "received", metric: "network_receive_bytes_total", aggregation: "sum", rate: true },
      { label: "sent", metric: "network_transmit_bytes_total", aggregation: "sum", rate: true },
    ],
  },
  {
    title: "Disk",
    unit: "B/s",
    lines: [
      { label: "read", metric: "disk_read_bytes_total", aggregation: "sum", rate: true },
      { label: "written", metric: "disk_write_bytes_total", aggregation: "sum", rate: true },
    ],
  },
];

export const AUTO_REFRESH_SECONDS = 30;

function rangeBar(host: HostSummary, range: ChartRange): SafeHtml {
  const path = hostPath(host.id);
  const custom = "from" in range ? range : undefined;
  const selected = "range" in range ? range.range : undefined;
  return html`<div class="range-bar">
    <nav class="ranges" aria-label="Time range">
      ${RANGES.map((r) => {
        const active = r.id === selected;
        return html`<a class="button${active ? " active" : ""}" href="${path}${query({ range: r.id })}"
          data-range="${r.id}"${active ? html` aria-current="true"` : ""}>${r.id}</a>`;
      })}
    </nav>
    <form class="custom-range" method="get" action="${path}">
      <label>From (UTC) <input type="datetime-local" name="from" required value="${custom?.from ?? ""}"></label>
      <label>To (UTC) <input type="datetime-local" name="to" value="${custom?.to ?? ""}"></label>
      <button type="submit"${custom ? html` class="active"` : ""}>Show</button>
    </form>
    <label class="check"><input type="checkbox" name="auto-refresh" checked${custom ? html` disabled` : ""}>
      Auto-refresh every ${AUTO_REFRESH_SECONDS} s</label>
    <span class="range-status muted" role="status" aria-live="polite"></span>
  </div>`;
}

export function chartsTab(head: HostHead, range: ChartRange, charts: ChartDefinition[]): SafeHtml {
  const { host } = head;
  const body =
    host.last_seen_at === null
      ? html`<section class="card">${emptyState(
          "No telemetry from this host yet.",
          host.hostname === null
            ? html`Its charts appear once an agent on it pushes metrics; the <a href="/hosts">Hosts</a> page shows
                how to enrol one.`
            : html`Its agent registered but has sent nothing since. Check that <code>npx fleetledger agent run</code>
                (or its systemd service) is running on the host and can reach this server.`,
        )}</section>`
      : html`${rangeBar(host, range)}
    <noscript><p class="note">The charts are drawn in the browser and need JavaScript.</p></noscript>
    <div class="chart-grid host-charts" data-system="${host.id}" data-refresh="${AUTO_REFRESH_SECONDS}"
      data-range="${JSON.stringify(range)}">
      ${charts.map(
        (chart) => html`<figure class="chart-box">
          <figcaption>${chart.title} <span class="hint">${chart.unit}</span></figcaption>
          <div class="chart host-chart" data-host-chart="${JSON.stringify(chart)}" role="img"
            aria-label="${chart.title} of ${host.name} over time: ${chart.lines.map((l) => l.label).join(", ")}"></div>
        </figure>`,
      )}
    </div>`;
  return html`${hostHead(head, "charts")}${body}`;
}

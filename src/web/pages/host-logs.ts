import { SEVERITIES, type Severity } from "../../telemetry/batch.js";
import type { LogLine } from "../../telemetry/logs.js";
import { emptyState, query, select } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { type HostHead, hostHead, hostPath } from "./host.js";

export const LOGS_PAGE_SIZE = 100;

export interface LogsFilter {
  source: string | undefined;
  /** The least severe level shown. */
  severity: Severity | undefined;
  text: string | undefined;
  /** Only lines older than this one (by time, then id). */
  beforeId: number | undefined;
}

export interface LogsView {
  systemId: string;
  filter: LogsFilter;
  sources: string[];
  lines: LogLine[];
  /** The `before_id` of the next older page; null on the last one. */
  nextBeforeId: number | null;
  /** The retention setting, for the empty state. */
  retentionDays: number;
}

export const logsUrl = (systemId: string, filter: LogsFilter, beforeId = filter.beforeId) =>
  `${hostPath(systemId, "logs")}${query({
    source: filter.source,
    severity: filter.severity,
    q: filter.text,
    before_id: beforeId,
  })}`;

/** Most severe first; choosing a level also shows the more severe ones. */
const SEVERITY_OPTIONS = [...SEVERITIES]
  .reverse()
  .map((s) => ({ value: s, label: s === "ERROR" ? s : `${s} and above` }));

const SEVERITY_CLASSES: Record<string, string> = {
  ERROR: "sev-critical",
  WARN: "sev-warning",
  INFO: "sev-info",
  DEBUG: "sev-low",
};

function severity(value: string | null): SafeHtml {
  if (value === null) return html`<span class="muted">–</span>`;
  return html`<span class="badge ${SEVERITY_CLASSES[value] ?? "sev-other"}">${value}</span>`;
}

/** UTC like every other time on the dashboard, to the second; `ts` is unix seconds. */
function logTime(ts: number): SafeHtml {
  const at = new Date(ts * 1000).toISOString();
  return html`<time datetime="${at}" title="${at}">${at.slice(0, 10)} ${at.slice(11, 19)}</time>`;
}

function link(url: string, label: string): SafeHtml {
  return html`<a class="button" href="${url}" hx-get="${url}" hx-target="#logs-table" hx-push-url="true">${label}</a>`;
}

/** The part the filter form and the paging links replace. */
export function logsTable(view: LogsView): SafeHtml {
  const { filter } = view;
  const { lines, nextBeforeId } = view;
  const filtered = filter.source || filter.severity || filter.text || filter.beforeId;
  if (lines.length === 0) {
    return filtered
      ? emptyState(
          "No log lines match these filters.",
          html`<a href="${hostPath(view.systemId, "logs")}">Show the newest lines</a>`,
        )
      : emptyState(
          "No log lines from this host.",
          `The agent sends journal, dmesg and syslog lines as it reads them; lines are kept for ${view.retentionDays} days.`,
        );
  }
  return html`<table class="data logs">
    <thead><tr><th>Time (UTC)</th><th>Source</th><th>Severity</th><th>Line</th></tr></thead>
    <tbody>${lines.map(
      (l) => html`<tr>
        <td class="nowrap">${logTime(l.ts)}</td>
        <td>${l.source}</td>
        <td>${severity(l.severity)}</td>
        <td class="log-line"><code>${l.content}</code></td>
      </tr>`,
    )}</tbody>
  </table>
  ${
    filter.beforeId !== undefined || nextBeforeId !== null
      ? html`<nav class="pager" aria-label="Pages">
    ${filter.beforeId !== undefined ? link(logsUrl(view.systemId, filter, undefined), "← Newest") : html`<span></span>`}
    ${nextBeforeId !== null ? link(logsUrl(view.systemId, filter, nextBeforeId), "Older →") : html`<span></span>`}
  </nav>`
      : ""
  }`;
}

export function logsTab(head: HostHead, view: LogsView): SafeHtml {
  const { filter } = view;
  const path = hostPath(view.systemId, "logs");
  // A source filtered for in a link stays selectable even when no stored line has it any more.
  const sources =
    filter.source && !view.sources.includes(filter.source) ? [...view.sources, filter.source] : view.sources;
  return html`${hostHead(head, "logs")}
  <form class="filters" method="get" action="${path}" hx-get="${path}" hx-target="#logs-table"
    hx-indicator="#logs-table" hx-trigger="change, submit" hx-push-url="true">
    ${select(
      "source",
      "Source",
      [{ value: "", label: "All sources" }, ...sources.map((s) => ({ value: s, label: s }))],
      filter.source,
    )}
    ${select("severity", "Severity", [{ value: "", label: "Any severity" }, ...SEVERITY_OPTIONS], filter.severity)}
    <label class="grow">Contains
      <input type="search" name="q" value="${filter.text ?? ""}" placeholder="Xid, oom-killer, …" maxlength="200">
    </label>
    <button type="submit">Filter</button>
  </form>
  <div id="logs-table">${logsTable(view)}</div>`;
}

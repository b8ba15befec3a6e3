import type { DiffRow } from "../../inventory/store.js";
import type { SystemSummary } from "../../systems/registry.js";
import {
  changeTypeBadge,
  emptyState,
  jsonValue,
  query,
  select,
  severityBadge,
  statusDot,
  timeCell,
} from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { jsonTree } from "../json-tree.js";
import type { ChartSeries } from "../queries.js";

export const CHANGES_PAGE_SIZE = 100;
/** The no-script "load more" shows every row up to the next page; this bounds how long that page gets. */
export const CHANGES_MAX_ROWS = 2000;
export const CHART_DAYS = 30;
export const SEVERITY_LEVELS = ["critical", "high", "medium", "low"] as const;

export interface ChangesFilter {
  category: string | undefined;
  severity: string | undefined;
  significant: boolean;
  offset: number;
}

export interface TimelineView {
  systemId: string;
  filter: ChangesFilter;
  rows: DiffRow[];
  /** Record of the row just before `rows`, so a continued group does not repeat its header. */
  previousRecordId: number | undefined;
  /** Offset of the next page; undefined when this is the last one. */
  nextOffset: number | undefined;
  now: Date;
}

export interface SystemView {
  system: SystemSummary;
  organization: string;
  latest: { id: number; received_at: string; data: unknown } | undefined;
  chart: ChartSeries | undefined;
  categories: string[];
  timeline: TimelineView;
  now: Date;
}

export const changesUrl = (systemId: string, filter: ChangesFilter, offset = filter.offset) =>
  `/systems/${encodeURIComponent(systemId)}/changes${query({
    category: filter.category,
    severity: filter.severity,
    significant: filter.significant ? "1" : undefined,
    offset: offset || undefined,
  })}`;

function valueChange(row: DiffRow): SafeHtml {
  if (row.change_type === "create") return html`<span class="arrow">→</span> ${jsonValue(row.current_value)}`;
  if (row.change_type === "delete") return html`<span class="removed">${jsonValue(row.previous_value)}</span>`;
  if (row.change_type === "truncated") return html`<span class="muted">${jsonValue(row.current_value)}</span>`;
  return html`${jsonValue(row.previous_value)} <span class="arrow">→</span> ${jsonValue(row.current_value)}`;
}

function changeRow(row: DiffRow): SafeHtml {
  return html`<tr>
    <td>${changeTypeBadge(row.change_type)}</td>
    <td class="path"><code>${row.field_path}</code></td>
    <td class="values">${valueChange(row)}</td>
    <td>${row.category}</td>
    <td>${severityBadge(row.severity)}</td>
    <td class="sig">${row.significant ? html`<span class="significant" title="Significant: raises notifications">●</span><span class="sr-only">significant</span>` : ""}</td>
  </tr>`;
}

/** One <tbody> per record, newest first; the last one holds the "load more" button when there is more. */
function changeGroups(view: TimelineView): SafeHtml[] {
  const groups: DiffRow[][] = [];
  for (const row of view.rows) {
    const current = groups[groups.length - 1];
    if (current && current[0]?.record_id === row.record_id) current.push(row);
    else groups.push([row]);
  }
  const bodies = groups.map((rows, i) => {
    const first = rows[0] as DiffRow;
    const continued = i === 0 && first.record_id === view.previousRecordId;
    return html`<tbody class="group">
      ${
        continued
          ? ""
          : html`<tr class="group-head"><th colspan="6">Received ${timeCell(first.created_at, view.now)}
              <span class="muted">· ${first.created_at} · record #${first.record_id}</span></th></tr>`
      }
      ${rows.map(changeRow)}
    </tbody>`;
  });
  if (view.nextOffset !== undefined) {
    const url = changesUrl(view.systemId, view.filter, view.nextOffset);
    bodies.push(html`<tbody class="more"><tr><td colspan="6">
      <a class="button" href="${url}" hx-get="${url}" hx-target="closest tbody" hx-swap="outerHTML">Load more</a>
    </td></tr></tbody>`);
  }
  return bodies;
}

/** The timeline fragment: the whole table for a first page, only the further groups for "load more". */
export function timeline(view: TimelineView, continuation: boolean): SafeHtml {
  if (continuation) return html`${changeGroups(view)}`;
  const { filter } = view;
  if (view.rows.length === 0) {
    return filter.category || filter.severity || filter.significant
      ? emptyState("No changes match these filters.", "")
      : emptyState(
          "No changes recorded yet.",
          "Changes appear once the system has sent a second inventory document that differs from the first.",
        );
  }
  return html`<table class="data changes">
    <thead><tr><th>Type</th><th>Field path</th><th>Change</th><th>Category</th><th>Severity</th><th><span class="sr-only">Significant</span></th></tr></thead>
    ${changeGroups(view)}
  </table>`;
}

function chart(series: ChartSeries | undefined): SafeHtml {
  if (!series) return html``;
  const total = series.y.reduce((a, b) => a + b, 0);
  return html`<section class="card">
    <h2>Changes per day <span class="muted">last ${CHART_DAYS} days · ${total} in total</span></h2>
    <div class="chart" data-chart="${JSON.stringify(series)}" role="img"
      aria-label="Bar chart of changes per day over the last ${CHART_DAYS} days, ${total} in total"></div>
  </section>`;
}

function inventory(view: SystemView): SafeHtml {
  if (!view.latest) {
    return html`<section class="card"><h2>Latest inventory</h2>${emptyState(
      "No inventory received yet.",
      html`The system pushes documents to <code>POST /api/systems/inventory</code> with its key and secret.`,
    )}</section>`;
  }
  const tree = jsonTree(view.latest.data);
  const apiUrl = `/api/systems/${encodeURIComponent(view.system.id)}/inventory/latest`;
  return html`<section class="card">
    <h2>Latest inventory <span class="muted">received ${timeCell(view.latest.received_at, view.now)} · record #${view.latest.id}</span></h2>
    ${tree.markup}
    ${tree.cut && html`<p class="note">Only the first ${tree.nodes} nodes are shown. The whole document is at <a href="${apiUrl}"><code>${apiUrl}</code></a>.</p>`}
  </section>`;
}

function changes(view: SystemView): SafeHtml {
  const { filter, systemId } = view.timeline;
  const url = `/systems/${encodeURIComponent(systemId)}/changes`;
  return html`<section class="card">
    <h2>Changes</h2>
    <form class="filters" method="get" action="${url}" hx-get="${url}" hx-target="#timeline"
      hx-indicator="#timeline" hx-trigger="change, submit" hx-push-url="true">
      ${select(
        "category",
        "Category",
        [{ value: "", label: "All categories" }, ...view.categories.map((c) => ({ value: c, label: c }))],
        filter.category,
      )}
      ${select(
        "severity",
        "Severity",
        [{ value: "", label: "Any severity" }, ...SEVERITY_LEVELS.map((s) => ({ value: s, label: s }))],
        filter.severity,
      )}
      <label class="check"><input type="checkbox" name="significant" value="1"${filter.significant ? html` checked` : ""}> Significant only</label>
      <button type="submit">Apply</button>
    </form>
    <div id="timeline">${timeline(view.timeline, false)}</div>
  </section>`;
}

export function systemPage(view: SystemView): SafeHtml {
  const { system, now } = view;
  return html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/systems">Systems</a> / <span>${system.name}</span></nav>
  <div class="page-head">
    <h1>${system.name}</h1>
    ${statusDot(system.status)}
  </div>
  <dl class="facts">
    <div><dt>System key</dt><dd><code>${system.system_key}</code></dd></div>
    <div><dt>Organization</dt><dd>${view.organization}</dd></div>
    <div><dt>Last heartbeat</dt><dd>${timeCell(system.last_heartbeat_at, now)}</dd></div>
    <div><dt>Last inventory</dt><dd>${timeCell(system.last_inventory_at, now)}</dd></div>
    <div><dt>System id</dt><dd><code>${system.id}</code></dd></div>
  </dl>
  ${chart(view.chart)}
  ${changes(view)}
  ${inventory(view)}`;
}

export function notFoundPage(what: string): SafeHtml {
  return html`<section class="card">${emptyState(what, html`<a href="/systems">Back to the systems list</a>`)}</section>`;
}

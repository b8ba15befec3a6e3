import type { SystemStatus } from "../../db/types.js";
import type { Organization, SystemSummary } from "../../systems/registry.js";
import { emptyState, orgStatusFilters, query, statusDot, timeCell } from "../components.js";
import { html, type SafeHtml } from "../html.js";

export const SYSTEMS_PAGE_SIZE = 50;
export const STATUSES: readonly SystemStatus[] = ["active", "inactive", "unknown"];

export interface SystemsFilter {
  org: string | undefined;
  status: SystemStatus | undefined;
  offset: number;
}

export interface SystemsView {
  filter: SystemsFilter;
  organizations: Organization[];
  /** One page of systems, plus one more row when a next page exists. */
  systems: SystemSummary[];
  changeCounts: Map<string, number>;
  now: Date;
}

export const systemsUrl = (filter: SystemsFilter, offset = filter.offset) =>
  `/systems${query({ org: filter.org, status: filter.status, offset: offset || undefined })}`;

function pageLink(filter: SystemsFilter, offset: number, label: string): SafeHtml {
  const url = systemsUrl(filter, offset);
  return html`<a class="button" href="${url}" hx-get="${url}" hx-target="#systems-table" hx-push-url="true">${label}</a>`;
}

function pager(view: SystemsView): SafeHtml {
  const { filter } = view;
  const hasNext = view.systems.length > SYSTEMS_PAGE_SIZE;
  if (filter.offset === 0 && !hasNext) return html``;
  const first = filter.offset + 1;
  const last = filter.offset + Math.min(view.systems.length, SYSTEMS_PAGE_SIZE);
  return html`<nav class="pager" aria-label="Pages">
    ${filter.offset > 0 ? pageLink(filter, Math.max(0, filter.offset - SYSTEMS_PAGE_SIZE), "← Previous") : html`<span></span>`}
    <span class="muted">${first}–${last}</span>
    ${hasNext ? pageLink(filter, filter.offset + SYSTEMS_PAGE_SIZE, "Next →") : html`<span></span>`}
  </nav>`;
}

/** The part the filter form reloads: table (or empty state) and pager. */
export function systemsTable(view: SystemsView): SafeHtml {
  const { filter, now } = view;
  const orgNames = new Map(view.organizations.map((o) => [o.id, o.name]));
  const rows = view.systems.slice(0, SYSTEMS_PAGE_SIZE);
  if (rows.length === 0) {
    if (filter.org || filter.status || filter.offset > 0) {
      return emptyState("No systems match these filters.", html`<a href="/systems">Show all systems</a>`);
    }
    return emptyState(
      "No systems registered yet.",
      html`<p>Register one from the command line; it prints the key and secret the system pushes with:</p>
        <pre class="command">npx fleetledger system create --org ORG --name NAME</pre>
        <p class="muted">Create the organization first with <code>npx fleetledger org create NAME</code> if it does not exist.</p>`,
    );
  }
  return html`<table class="data">
    <thead><tr>
      <th>Status</th><th>Name</th><th>Organization</th><th>System key</th>
      <th>Last heartbeat</th><th>Last inventory</th><th class="num">Changes</th>
    </tr></thead>
    <tbody>
      ${rows.map(
        (s) => html`<tr>
          <td>${statusDot(s.status)}</td>
          <td><a href="/systems/${encodeURIComponent(s.id)}">${s.name}</a></td>
          <td>${orgNames.get(s.org_id) ?? s.org_id}</td>
          <td><code>${s.system_key}</code></td>
          <td>${timeCell(s.last_heartbeat_at, now)}</td>
          <td>${timeCell(s.last_inventory_at, now)}</td>
          <td class="num">${view.changeCounts.get(s.id) ?? 0}</td>
        </tr>`,
      )}
    </tbody>
  </table>
  ${pager(view)}`;
}

export function systemsPage(view: SystemsView): SafeHtml {
  const { filter } = view;
  return html`<div class="page-head"><h1>Systems</h1></div>
  ${orgStatusFilters("/systems", "systems-table", view.organizations, STATUSES, filter)}
  <div id="systems-table">${systemsTable(view)}</div>`;
}

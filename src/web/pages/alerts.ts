import type { Alert } from "../../alerts/store.js";
import { emptyState, query, severityBadge, timeCell } from "../components.js";
import { html, type SafeHtml } from "../html.js";

export const ALERTS_PAGE_SIZE = 100;
export const ALERT_STATUSES = ["firing", "resolved"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export interface AlertsView {
  status: AlertStatus | undefined;
  offset: number;
  /** Firing alerts first, then resolved ones; each list holds one extra row when it continues. */
  firing: Alert[];
  resolved: Alert[];
  now: Date;
}

function systemCell(alert: Alert): SafeHtml {
  const name = alert.labels.system_name ?? "";
  const id = alert.labels.system_id;
  return id ? html`<a href="/systems/${encodeURIComponent(id)}">${name || id}</a>` : html`${name}`;
}

function alertTable(alerts: Alert[], now: Date): SafeHtml {
  return html`<table class="data">
    <thead><tr>
      <th>Status</th><th>Alert</th><th>Severity</th><th>System</th><th>Organization</th><th>Summary</th>
      <th>Starts</th><th>Ends</th>
    </tr></thead>
    <tbody>
      ${alerts.map(
        (a) => html`<tr>
          <td><span class="badge alert-${a.status}">${a.status}</span></td>
          <td><strong>${a.labels.alertname ?? ""}</strong></td>
          <td>${a.labels.severity ? severityBadge(a.labels.severity) : ""}</td>
          <td>${systemCell(a)}</td>
          <td>${a.labels.organization_name ?? ""}</td>
          <td class="summary"${a.annotations.description ? html` title="${a.annotations.description}"` : ""}>${a.annotations.summary ?? ""}</td>
          <td>${timeCell(a.starts_at, now)}</td>
          <td>${timeCell(a.ends_at, now)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function section(view: AlertsView, status: AlertStatus, alerts: Alert[]): SafeHtml {
  const shown = alerts.slice(0, ALERTS_PAGE_SIZE);
  const more = alerts.length > ALERTS_PAGE_SIZE;
  const filtered = view.status === status;
  const title = status === "firing" ? "Firing" : "Resolved";
  if (shown.length === 0) {
    return html`<section class="card"><h2>${title}</h2>${emptyState(
      status === "firing" ? "Nothing is firing." : "No resolved alerts.",
      "",
    )}</section>`;
  }
  const link = (offset: number, label: string) =>
    html`<a class="button" href="/alerts${query({ status, offset: offset || undefined })}">${label}</a>`;
  let pager: SafeHtml = html``;
  if (filtered && (view.offset > 0 || more)) {
    pager = html`<nav class="pager">
      ${view.offset > 0 ? link(Math.max(0, view.offset - ALERTS_PAGE_SIZE), "← Previous") : html`<span></span>`}
      <span></span>
      ${more ? link(view.offset + ALERTS_PAGE_SIZE, "Next →") : html`<span></span>`}
    </nav>`;
  } else if (more) {
    pager = html`<nav class="pager"><span></span><span></span>${link(0, `All ${status} alerts →`)}</nav>`;
  }
  return html`<section class="card"><h2>${title}</h2>${alertTable(shown, view.now)}${pager}</section>`;
}

export function alertsPage(view: AlertsView): SafeHtml {
  const tab = (status: AlertStatus | undefined, label: string) =>
    html`<a href="/alerts${query({ status })}"${view.status === status ? html` class="active" aria-current="page"` : ""}>${label}</a>`;
  return html`<div class="page-head"><h1>Alerts</h1></div>
  <nav class="tabs" aria-label="Alert status">
    ${tab(undefined, "Firing first")}${tab("firing", "Firing")}${tab("resolved", "Resolved")}
  </nav>
  ${view.status !== "resolved" ? section(view, "firing", view.firing) : ""}
  ${view.status !== "firing" ? section(view, "resolved", view.resolved) : ""}`;
}

import type { DeadJob, QueueDepth } from "../../queue/types.js";
import { emptyState, jsonValue, query, timeCell, truncate } from "../components.js";
import { html, type SafeHtml } from "../html.js";

export const DEAD_PAGE_SIZE = 50;
const DEAD_COLUMNS = 7;

export interface JobsView {
  depth: QueueDepth[];
  /** One page of dead letters, plus one more row when a next page exists. */
  dead: DeadJob[];
  offset: number;
  canRetry: boolean;
  now: Date;
}

function lag(seconds: number): string {
  if (seconds < 1) return "—";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function depthTable(depth: QueueDepth[]): SafeHtml {
  if (depth.length === 0) return emptyState("No jobs queued.", "Every queue is empty and has no dead letters.");
  return html`<table class="data">
    <thead><tr><th>Queue</th><th class="num">Pending</th><th class="num">Dead</th><th class="num">Oldest waiting</th></tr></thead>
    <tbody>
      ${depth.map(
        (d) => html`<tr>
          <td><code>${d.queue}</code></td>
          <td class="num">${d.pending}</td>
          <td class="num">${d.dead > 0 ? html`<span class="badge sev-critical">${d.dead}</span>` : "0"}</td>
          <td class="num">${lag(d.lag_seconds)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function retryButton(job: DeadJob, canRetry: boolean): SafeHtml {
  if (!canRetry) return html`<button type="button" disabled title="Retrying needs an admin token">Retry</button>`;
  const url = `/jobs/dead/${job.id}/retry`;
  return html`<form method="post" action="${url}" hx-post="${url}" hx-target="closest tr" hx-swap="outerHTML">
    <button type="submit">Retry</button>
  </form>`;
}

/** What replaces a dead letter's row once the retry request has been answered. */
export function retriedRow(id: number, requeued: boolean): SafeHtml {
  return html`<tr class="${requeued ? "retried" : "gone"}"><td>#${id}</td><td colspan="${DEAD_COLUMNS - 1}">${
    requeued ? "Queued for another attempt." : "This job is no longer a dead letter."
  }</td></tr>`;
}

function deadTable(view: JobsView): SafeHtml {
  const rows = view.dead.slice(0, DEAD_PAGE_SIZE);
  if (rows.length === 0) {
    return emptyState("No dead letters.", "Jobs land here after failing every attempt; none has.");
  }
  const link = (offset: number, label: string) =>
    html`<a class="button" href="/jobs${query({ offset: offset || undefined })}">${label}</a>`;
  const more = view.dead.length > DEAD_PAGE_SIZE;
  return html`<table class="data">
    <thead><tr><th>Job</th><th>Queue</th><th class="num">Attempts</th><th>Last error</th><th>Payload</th><th>Failed</th><th></th></tr></thead>
    <tbody>
      ${rows.map(
        (job) => html`<tr>
          <td>#${job.id}</td>
          <td><code>${job.queue}</code></td>
          <td class="num">${job.attempts}</td>
          <td class="error-text"${job.last_error ? html` title="${job.last_error}"` : ""}>${truncate(job.last_error ?? "", 160)}</td>
          <td>${jsonValue(job.payload, 80)}</td>
          <td>${timeCell(job.failed_at, view.now)}</td>
          <td>${retryButton(job, view.canRetry)}</td>
        </tr>`,
      )}
    </tbody>
  </table>
  ${
    view.offset > 0 || more
      ? html`<nav class="pager">
          ${view.offset > 0 ? link(Math.max(0, view.offset - DEAD_PAGE_SIZE), "← Previous") : html`<span></span>`}
          <span></span>
          ${more ? link(view.offset + DEAD_PAGE_SIZE, "Next →") : html`<span></span>`}
        </nav>`
      : ""
  }`;
}

export function jobsPage(view: JobsView): SafeHtml {
  return html`<div class="page-head"><h1>Jobs</h1></div>
  <section class="card"><h2>Queues</h2>${depthTable(view.depth)}</section>
  <section class="card">
    <h2>Dead letters</h2>
    ${!view.canRetry && view.dead.length > 0 && html`<p class="note">Sign in with an admin token to retry dead letters.</p>`}
    ${deadTable(view)}
  </section>`;
}

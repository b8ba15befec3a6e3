import type { FastifyReply, FastifyRequest } from "fastify";
import { Money } from "../billing/decimal.js";
import type { SystemStatus } from "../db/types.js";
import { html, type SafeHtml } from "./html.js";

/** "3 min ago" / "in 8 min" relative to `now`; coarse on purpose, the exact time sits in the title. */
export function relativeTime(at: string, now: Date): string {
  const seconds = Math.round((now.getTime() - new Date(at).getTime()) / 1000);
  const future = seconds < 0;
  const abs = Math.abs(seconds);
  if (abs < 45) return future ? "in a moment" : "just now";
  let amount: string;
  if (abs < 3600) amount = `${Math.max(1, Math.round(abs / 60))} min`;
  else if (abs < 86_400) amount = `${Math.round(abs / 3600)} h`;
  else if (abs < 60 * 86_400) {
    const days = Math.round(abs / 86_400);
    amount = `${days} ${days === 1 ? "day" : "days"}`;
  } else return at.slice(0, 10);
  return future ? `in ${amount}` : `${amount} ago`;
}

export function timeCell(at: string | null, now: Date, never = "never"): SafeHtml {
  if (!at) return html`<span class="muted">${never}</span>`;
  return html`<time datetime="${at}" title="${at}">${relativeTime(at, now)}</time>`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A JSON value cut to `max` characters, the whole of it in the title for hovering. */
export function jsonValue(value: unknown, max = 200): SafeHtml {
  const text = JSON.stringify(value) ?? "null";
  const shown = truncate(text, max);
  return html`<code class="json"${shown === text ? "" : html` title="${text}"`}>${shown}</code>`;
}

export function statusDot(status: SystemStatus): SafeHtml {
  return html`<span class="status status-${status}"><span class="dot" aria-hidden="true"></span>${status}</span>`;
}

const SEVERITIES = new Set(["critical", "high", "medium", "low", "warning", "info"]);

export function severityBadge(severity: string): SafeHtml {
  const known = SEVERITIES.has(severity) ? severity : "other";
  return html`<span class="badge sev-${known}">${severity}</span>`;
}

export function changeTypeBadge(type: string): SafeHtml {
  return html`<span class="badge change-${/^(create|update|delete)$/.test(type) ? type : "other"}">${type}</span>`;
}

export interface Option {
  value: string;
  label: string;
}

export function select(name: string, label: string, options: Option[], selected: string | undefined): SafeHtml {
  return html`<label>${label}
    <select name="${name}">
      ${options.map((o) => html`<option value="${o.value}"${o.value === (selected ?? "") ? html` selected` : ""}>${o.label}</option>`)}
    </select>
  </label>`;
}

/**
 * The organization and status filter above a table that htmx reloads in place (`#<tableId>`); without JavaScript
 * it is a plain GET form.
 */
export function orgStatusFilters(
  path: string,
  tableId: string,
  organizations: readonly { id: string; name: string }[],
  statuses: readonly string[],
  filter: { org?: string | undefined; status?: string | undefined },
): SafeHtml {
  return html`<form class="filters" method="get" action="${path}" hx-get="${path}" hx-target="#${tableId}"
    hx-indicator="#${tableId}" hx-trigger="change, submit" hx-push-url="true">
    ${select(
      "org",
      "Organization",
      [{ value: "", label: "All organizations" }, ...organizations.map((o) => ({ value: o.id, label: o.name }))],
      filter.org,
    )}
    ${select("status", "Status", [{ value: "", label: "Any status" }, ...statuses.map((s) => ({ value: s, label: s }))], filter.status)}
    <button type="submit">Filter</button>
  </form>`;
}

/** Query string from the non-empty parameters, with a leading "?" when there are any. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** True for htmx requests that want a fragment; a history restore asks for the full page. */
export function wantsFragment(request: FastifyRequest): boolean {
  return request.headers["hx-request"] === "true" && request.headers["hx-history-restore-request"] !== "true";
}

/** A non-negative integer from a query parameter, or the fallback when it is missing or not one. */
export function intParam(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return fallback;
  return Number(value);
}

/** The value when it is one of the allowed ones, so a crafted query cannot reach the database as a filter. */
export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  return allowed.find((a) => a === value);
}

export function emptyState(title: string, body: SafeHtml | string): SafeHtml {
  return html`<div class="empty"><p class="empty-title">${title}</p><div class="empty-body">${body}</div></div>`;
}

export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200) {
  return reply.code(status).type("text/html; charset=utf-8").send(page.value);
}

const WHOLE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const FRACTIONAL = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * Thousands separators, and two decimals only where the value has a fraction: counts stay whole, while averages
 * over partial days (2.5 VMs) show theirs. Float noise from SQL averages (3.0000000004) does not count as one.
 */
export function formatNumber(value: number): string {
  return Math.abs(value - Math.round(value)) < 1e-9 ? WHOLE.format(Math.round(value)) : FRACTIONAL.format(value);
}

/** An exact decimal string (money, billed quantities) rounded to `places`, with thousands separators. */
export function formatDecimal(value: string, places = 2): string {
  const [whole = "0", fraction] = new Money(value).toFixed(places).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

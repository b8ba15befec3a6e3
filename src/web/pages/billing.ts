import { Money } from "../../billing/decimal.js";
import type { BillableEvent } from "../../billing/pricing.js";
import { type Bill, monthRange, type OrgBill, type SpaceBill } from "../../cloudfoundry/billing.js";
import type { ResourceType } from "../../cloudfoundry/events.js";
import type { UsageInterval } from "../../cloudfoundry/intervals.js";
import { type LineChartSpec, type LineSeries, lineChart } from "../charts.js";
import { emptyState, formatDecimal, formatNumber, query, truncate } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import type { OrgMonthTotals } from "../queries.js";
import { periodName } from "./chargeback.js";

export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;
/** Months in the trend chart, the selected one last. */
export const TREND_MONTHS = 12;
/** Organizations the trend chart draws on their own; the rest are summed as "others". */
const TREND_ORGS = 6;
/** Usage intervals listed on an organization's page; a busy org scales its apps thousands of times a month. */
const RESOURCE_ROWS = 500;

const TYPE_COLORS: Record<ResourceType, string> = {
  app: "#2563eb",
  service: "#16a34a",
  task: "#9333ea",
  staging: "#ea580c",
};
const OTHERS_COLOR = "#9aa3af";

/** The month `count` months after `month` (before, when negative). */
export function shiftMonth(month: string, count: number): string {
  const [year, index] = month.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(year, index - 1 + count, 1)).toISOString().slice(0, 7);
}

/** The UTC month of `now`, which bills and usage intervals are cut by. */
export const monthOf = (now: Date) => now.toISOString().slice(0, 7);

const monthName = (month: string) => periodName({ kind: "month", value: month });

const billingUrl = (month: string) => `/billing${query({ month })}`;
const orgPath = (org: string) => `/billing/orgs/${encodeURIComponent(org)}`;
const orgUrl = (org: string, month: string) => `${orgPath(org)}${query({ month })}`;
const resourcePath = (guid: string) => `/billing/resources/${encodeURIComponent(guid)}`;
const resourceUrl = (guid: string, month: string) => `${resourcePath(guid)}${query({ month })}`;
/** The JSON API's export, which accepts the dashboard session; without an organization it holds them all. */
const exportUrl = (month: string, format: "csv" | "xlsx", org?: string) =>
  `/api/bills/export${query({ month, org, format })}`;

/** Two decimals for reading; the exact amount (lines keep more places than a cent) on hover. */
function amount(value: string): SafeHtml {
  return html`<span class="amount" title="${value}">${formatDecimal(value)}</span>`;
}

function moneyCell(value: string, strong = false): SafeHtml {
  return html`<td class="num" title="${value}">${strong ? html`<strong>${formatDecimal(value)}</strong>` : formatDecimal(value)}</td>`;
}

function utcTime(at: string): SafeHtml {
  return html`<time datetime="${at}" title="${at}">${at.slice(0, 16).replace("T", " ")}</time>`;
}

/** Usage events seldom name their organization, so the guid often is the name; then it is shown once, as code. */
function orgLabel(name: string, guid: string): SafeHtml {
  return name === guid ? html`<code>${guid}</code>` : html`${name} <code class="guid">${guid}</code>`;
}

function statusBadge(status: Bill["status"]): SafeHtml {
  return html`<span class="badge bill-${status}" title="${
    status === "open"
      ? "The month is running: amounts are month to date"
      : "The month is over; late usage events make a new revision"
  }">${status}</span>`;
}

function typeBadge(type: string): SafeHtml {
  return html`<span class="badge cf-type cf-${type}">${type}</span>`;
}

/** Previous and next month around a month field; no "next" beyond the running month, which has nothing yet. */
function monthBar(month: string, current: string, path: string): SafeHtml {
  const previous = shiftMonth(month, -1);
  const next = shiftMonth(month, 1);
  return html`<nav class="month-bar" aria-label="Month">
    <a class="button" rel="prev" href="${path}${query({ month: previous })}">← ${monthName(previous)}</a>
    <form class="month-picker" method="get" action="${path}">
      <label>Month <input type="month" name="month" value="${month}" pattern="\\d{4}-\\d{2}" placeholder="YYYY-MM" required></label>
      <button type="submit">Show</button>
    </form>
    ${month < current && html`<a class="button" rel="next" href="${path}${query({ month: next })}">${monthName(next)} →</a>`}
  </nav>`;
}

function stat(label: string, value: SafeHtml | string, hint?: string): SafeHtml {
  return html`<div class="stat"${hint ? html` title="${hint}"` : ""}><span class="stat-value">${value}</span><span class="stat-label">${label}</span></div>`;
}

function billStats(bill: Bill, extra: SafeHtml): SafeHtml {
  const open = bill.status === "open";
  const sofar = open ? " so far" : "";
  return html`<div class="stats">
    ${stat("Status", statusBadge(bill.status))}
    ${stat(`Ex VAT${sofar} (${bill.currency})`, amount(bill.totals.ex_vat))}
    ${stat(`Inc VAT${sofar} (${bill.currency})`, amount(bill.totals.inc_vat))}
    ${
      bill.forecast &&
      stat(
        `Forecast to month end, inc VAT`,
        amount(bill.forecast.inc_vat),
        `Everything running now keeps running to the end of the month: ${bill.forecast.ex_vat} ex VAT, ${bill.forecast.inc_vat} inc VAT`,
      )
    }
    ${extra}
  </div>`;
}

const SYNC_HELP = html`<p>List each foundation in <code>cloudfoundry.foundations</code> (its API URL and a UAA client or
  user that may read usage events), price its plans in <code>billing.pricing_plans</code> with
  <code>billing.vat_rates</code> and <code>billing.currency_rates</code>, then collect the usage events once:</p>
  <pre class="command">npx fleetledger cf sync --once</pre>
  <p class="muted">The server then collects every foundation each <code>schedule</code> (a minute by default);
  see docs/billing.md.</p>`;

const PRICING_HELP = html`<p class="muted">Check <code>billing.pricing_plans</code>, <code>billing.vat_rates</code> and
  <code>billing.currency_rates</code>: every rate a plan names must hold from the month's first day.</p>`;

function unpricedNote(unpriced: readonly { plan_guid: string; plan_name: string }[]): SafeHtml {
  if (unpriced.length === 0) return html``;
  return html`<p class="alert-box" role="status">Usage of ${unpriced.length === 1 ? "a plan" : `${unpriced.length} plans`}
    without a pricing plan is left out of this bill:
    ${unpriced.map((p, i) => html`${i > 0 ? ", " : ""}<code title="plan_guid ${p.plan_guid}">${p.plan_name}</code>`)}.
    Add ${unpriced.length === 1 ? "it" : "them"} to <code>billing.pricing_plans</code>.</p>`;
}

function errorCard(month: string, error: string): SafeHtml {
  return html`<section class="card">${emptyState(
    `${monthName(month)} cannot be priced.`,
    html`<p>${error}</p>${PRICING_HELP}`,
  )}</section>`;
}

// Overview

export interface BillingView {
  month: string;
  /** The running month. */
  current: string;
  bill: Bill | undefined;
  /** Why the pricing settings cannot price the month. */
  error: string | undefined;
  trend: OrgMonthTotals[];
  unpriced: { plan_guid: string; plan_name: string }[];
  /** `cloudfoundry.foundations` is not empty. */
  configured: boolean;
  /** Some usage event is stored. */
  collected: boolean;
}

function revisionCell(org: OrgBill, month: string): SafeHtml {
  if (org.previous) {
    return html`<a class="badge bill-revised" href="${orgUrl(org.org_guid, month)}"
      title="Revision ${org.revision ?? ""}: late usage events changed the total. Revision ${org.previous.revision} was ${org.previous.ex_vat} ex VAT, ${org.previous.inc_vat} inc VAT."
      >revised: was ${formatDecimal(org.previous.inc_vat)}</a>`;
  }
  return org.revision ? html`<span class="muted">revision ${org.revision}</span>` : html``;
}

function orgsTable(bill: Bill): SafeHtml {
  const spaces = bill.orgs.reduce((n, o) => n + o.spaces.length, 0);
  return html`<table class="data bill-orgs">
    <thead><tr>
      <th>Organization</th><th class="num">Spaces</th><th class="num">Ex VAT (${bill.currency})</th>
      <th class="num">Inc VAT (${bill.currency})</th><th>Revision</th>
    </tr></thead>
    <tbody>
      ${bill.orgs.map(
        (org) => html`<tr>
          <td><a href="${orgUrl(org.org_guid, bill.month)}">${orgLabel(org.org_name, org.org_guid)}</a></td>
          <td class="num">${formatNumber(org.spaces.length)}</td>
          ${moneyCell(org.ex_vat)}${moneyCell(org.inc_vat)}
          <td>${revisionCell(org, bill.month)}</td>
        </tr>`,
      )}
    </tbody>
    <tfoot><tr class="grand-total">
      <th>Total${bill.status === "open" ? " so far" : ""}</th><td class="num">${formatNumber(spaces)}</td>
      ${moneyCell(bill.totals.ex_vat)}${moneyCell(bill.totals.inc_vat, true)}<td></td>
    </tr></tfoot>
  </table>`;
}

const monthStart = (month: string) => Date.parse(monthRange(month).start) / 1000;

/** The largest organizations on their own and the rest as "others", stacked, so the top edge is the bill total. */
function trendChart(view: BillingView, currency: string): SafeHtml {
  const sums = new Map<string, { name: string; total: Money }>();
  for (const { orgs } of view.trend) {
    for (const [guid, org] of orgs ?? []) {
      const sum = sums.get(guid) ?? { name: org.name, total: new Money(0) };
      sum.total = sum.total.plus(org.inc_vat);
      sums.set(guid, sum);
    }
  }
  const first = view.trend[0]?.month ?? view.month;
  const span = `${monthName(first)} to ${monthName(view.month)}`;
  const ranked = [...sums].sort(([, a], [, b]) => b.total.comparedTo(a.total) || a.name.localeCompare(b.name));
  if (!ranked.some(([, s]) => s.total.gt(0))) {
    return emptyState(`Nothing billed in the last ${TREND_MONTHS} months.`, `No organization has a bill from ${span}.`);
  }
  // "Others" standing for a single organization would hide its name for nothing.
  const shown = ranked.length > TREND_ORGS + 1 ? ranked.slice(0, TREND_ORGS) : ranked;
  const others = ranked.slice(shown.length).map(([guid]) => guid);
  const value = (orgs: OrgMonthTotals["orgs"], guids: readonly string[]) =>
    orgs ? guids.reduce((s, g) => s.plus(orgs.get(g)?.inc_vat ?? 0), new Money(0)).toNumber() : null;
  const series: LineSeries[] = shown.map(([guid, s]) => ({
    label: truncate(s.name, 40),
    y: view.trend.map((m) => value(m.orgs, [guid])),
  }));
  if (others.length > 0) {
    series.push({
      label: `${others.length} others`,
      y: view.trend.map((m) => value(m.orgs, others)),
      color: OTHERS_COLOR,
    });
  }
  const spec: LineChartSpec = {
    x: view.trend.map((m) => monthStart(m.month)),
    step: "month",
    series,
    stacked: true,
    bars: true,
    decimals: 2,
  };
  return lineChart(
    html`Last ${TREND_MONTHS} months <span class="hint">inc VAT in ${currency} per organization, stacked${
      view.trend.some((m) => m.month === view.current) ? "; the running month so far" : ""
    }</span>`,
    spec,
    `Monthly inc-VAT totals per organization from ${span}`,
  );
}

function setupState(view: BillingView): SafeHtml {
  return html`<section class="card">${emptyState(
    view.configured ? "No usage events have been collected yet." : "No Cloud Foundry foundation is configured yet.",
    SYNC_HELP,
  )}</section>`;
}

function emptyMonth(month: string): SafeHtml {
  return html`<section class="card">${emptyState(
    `No billed usage in ${monthName(month)}.`,
    html`<p>No app, task, staging or priced service ran in this month.</p>
      <p class="muted">Recent usage arrives with the next collection; <code>npx fleetledger cf sync --once</code>
      collects now.</p>`,
  )}</section>`;
}

export function billingPage(view: BillingView): SafeHtml {
  const title = html`<div class="page-head"><h1>Billing</h1><span class="muted">Cloud Foundry usage per organization, ${monthName(view.month)}</span></div>`;
  if (!view.collected) return html`${title}${setupState(view)}`;
  const head = html`${title}${monthBar(view.month, view.current, "/billing")}`;
  const { bill } = view;
  if (view.error || !bill) return html`${head}${errorCard(view.month, view.error ?? "")}`;
  const body =
    bill.orgs.length === 0
      ? emptyMonth(view.month)
      : html`${billStats(bill, stat("Organizations", formatNumber(bill.orgs.length)))}
        ${unpricedNote(view.unpriced)}
        <section class="card">
          <div class="section-head">
            <h2>Organizations <span class="muted">${monthName(bill.month)} · ${bill.currency}</span></h2>
            <a class="button" href="${exportUrl(bill.month, "csv")}" download>CSV of all organizations</a>
          </div>
          ${orgsTable(bill)}
          <p class="note">${
            bill.status === "open"
              ? "Totals are month to date; each organization's total is rounded to the cent (hover for the exact amount)."
              : "A closed month keeps its bill; when late usage events change an organization's total, the bill gets a new revision."
          }</p>
        </section>`;
  return html`${head}${body}
  ${view.trend.length > 0 && html`<section class="card">${trendChart(view, bill.currency)}</section>`}`;
}

// One organization's bill

export interface OrgBillView {
  month: string;
  current: string;
  orgGuid: string;
  /** The bill limited to the organization. */
  bill: Bill | undefined;
  error: string | undefined;
  /** The organization's usage intervals overlapping the month, in start order. */
  intervals: UsageInterval[];
  /** Where intervals still running end: now in the running month, the month's end once it is over. */
  openUntil: string;
  unpriced: { plan_guid: string; plan_name: string }[];
}

function spaceDetails(space: SpaceBill): SafeHtml {
  return html`<details class="space" open>
    <summary>
      <span class="space-name">${space.space_name}</span>
      <span class="muted">${space.lines.length} ${space.lines.length === 1 ? "line" : "lines"}</span>
      <span class="space-total">ex VAT ${amount(space.ex_vat)} · inc VAT <strong>${amount(space.inc_vat)}</strong></span>
    </summary>
    <table class="data bill-lines">
      <colgroup><col class="c-plan"><col class="c-type"><col class="c-count"><col class="c-money"><col class="c-money"></colgroup>
      <thead><tr>
        <th>Pricing plan</th><th>Resource type</th><th class="num">Resources</th><th class="num">Ex VAT</th>
        <th class="num">Inc VAT</th>
      </tr></thead>
      <tbody>
        ${space.lines.map(
          (line) => html`<tr>
            <td><span title="plan_guid ${line.plan_guid}">${line.plan_name}</span></td>
            <td>${typeBadge(line.resource_type)}</td>
            <td class="num">${formatNumber(line.resources)}</td>
            ${moneyCell(line.ex_vat)}${moneyCell(line.inc_vat)}
          </tr>`,
        )}
      </tbody>
    </table>
  </details>`;
}

function revisionNote(org: OrgBill): SafeHtml {
  if (!org.previous) return html``;
  return html`<p class="revision-note" role="status"><span class="badge bill-revised">revised</span>
    Late usage events changed this closed month's bill: revision ${org.revision ?? ""} is ${amount(org.ex_vat)} ex VAT,
    ${amount(org.inc_vat)} inc VAT; revision ${org.previous.revision} was ${amount(org.previous.ex_vat)} ex VAT,
    ${amount(org.previous.inc_vat)} inc VAT.</p>`;
}

function stopCell(interval: UsageInterval, openUntil: string, running: boolean): SafeHtml {
  if (interval.stop < openUntil) return utcTime(interval.stop);
  return running
    ? html`<span class="badge cf-running">running</span>`
    : html`<span class="muted" title="Still running when the month ended">after the month</span>`;
}

function resourcesTable(view: OrgBillView): SafeHtml {
  if (view.intervals.length === 0) {
    return emptyState(`No usage in ${monthName(view.month)}.`, "No resource of this organization ran in this month.");
  }
  const running = view.month === view.current;
  const rows = [...view.intervals]
    .sort((a, b) => a.resource_name.localeCompare(b.resource_name) || a.start.localeCompare(b.start))
    .slice(0, RESOURCE_ROWS);
  return html`<table class="data cf-resources">
    <thead><tr>
      <th>Resource</th><th>Type</th><th>Space</th><th>Plan</th><th class="num">Instances</th>
      <th class="num">Memory per instance</th><th>Start (UTC)</th><th>Stop (UTC)</th>
    </tr></thead>
    <tbody>
      ${rows.map(
        (i) => html`<tr>
          <td><a href="${resourceUrl(i.resource_guid, view.month)}" title="${i.resource_guid}">${i.resource_name}</a></td>
          <td>${typeBadge(i.resource_type)}</td>
          <td>${i.space_name}</td>
          <td><span title="plan_guid ${i.plan_guid}">${i.plan_name}</span></td>
          <td class="num">${i.number_of_nodes === null ? html`<span class="muted" title="Services take theirs from the pricing plan">–</span>` : formatNumber(i.number_of_nodes)}</td>
          <td class="num">${i.memory_in_mb === null ? html`<span class="muted" title="Services take theirs from the pricing plan">–</span>` : `${formatNumber(i.memory_in_mb)} MB`}</td>
          <td>${utcTime(i.start)}</td>
          <td>${stopCell(i, view.openUntil, running)}</td>
        </tr>`,
      )}
    </tbody>
  </table>
  ${
    view.intervals.length > RESOURCE_ROWS &&
    html`<p class="note">The first ${formatNumber(RESOURCE_ROWS)} of ${formatNumber(view.intervals.length)} intervals by
      resource name; <code>GET /usage_events</code> lists them all.</p>`
  }`;
}

export function orgBillPage(view: OrgBillView): SafeHtml {
  const org = view.bill?.orgs[0];
  const name = org?.org_name ?? view.intervals[0]?.org_name ?? view.orgGuid;
  const head = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="${billingUrl(view.month)}">Billing</a> /
    <span>${monthName(view.month)}</span></nav>
  <div class="page-head">
    <h1>${name === view.orgGuid ? html`<code class="title-guid">${name}</code>` : name}</h1>
  </div>
  ${name !== view.orgGuid && html`<p class="muted">Organization <code>${view.orgGuid}</code></p>`}
  ${monthBar(view.month, view.current, orgPath(view.orgGuid))}`;
  if (view.error || !view.bill) return html`${head}${errorCard(view.month, view.error ?? "")}`;
  const bill = view.bill;
  const billCard = org
    ? html`${billStats(bill, stat("Spaces", formatNumber(org.spaces.length)))}
      ${revisionNote(org)}
      ${unpricedNote(view.unpriced)}
      <section class="card">
        <div class="section-head">
          <h2>Bill <span class="muted">${monthName(bill.month)} · ${bill.currency}${org.revision ? ` · revision ${org.revision}` : ""}</span></h2>
          <div class="downloads">
            <a class="button" href="${exportUrl(bill.month, "csv", view.orgGuid)}" download>Download CSV</a>
            <a class="button" href="${exportUrl(bill.month, "xlsx", view.orgGuid)}" download>Download XLSX</a>
          </div>
        </div>
        ${org.spaces.map(spaceDetails)}
        <table class="data bill-lines bill-total">
          <colgroup><col class="c-plan"><col class="c-type"><col class="c-count"><col class="c-money"><col class="c-money"></colgroup>
          <tfoot><tr class="grand-total">
            <th colspan="3">Organization total${bill.status === "open" ? " so far" : ""}</th>
            ${moneyCell(org.ex_vat)}${moneyCell(org.inc_vat, true)}
          </tr></tfoot>
        </table>
        <p class="note">Lines keep exact amounts (hover for them); spaces and the organization total are rounded to the
          cent.</p>
      </section>`
    : html`${unpricedNote(view.unpriced)}<section class="card">${emptyState(
        `No bill for ${monthName(view.month)}.`,
        "Nothing of this organization was billed in this month; other months may have a bill.",
      )}</section>`;
  return html`${head}${billCard}
  <section class="card">
    <h2>Resources <span class="muted">usage intervals overlapping ${monthName(view.month)}: each start, scale or plan change opens one</span></h2>
    ${resourcesTable(view)}
  </section>`;
}

// One resource's usage

export interface ResourceView {
  month: string;
  current: string;
  guid: string;
  /** The organizations with events of the resource. */
  orgs: string[];
  /** The resource's intervals overlapping the month, in start order. */
  intervals: UsageInterval[];
  /** Their billable events: the priced part of each within the month. */
  events: BillableEvent[];
  openUntil: string;
  currency: string;
  error: string | undefined;
}

interface Sized {
  type: ResourceType;
  start: number;
  stop: number;
  nodes: number;
  memory: number;
}

/**
 * Instances and memory at every start and stop within the month, per resource type: staging shares its app's guid.
 * Each value holds until the next point, and the last point repeats the value just before it so that the final
 * stretch is drawn to the end.
 */
function usageCharts(view: ResourceView): SafeHtml {
  const range = monthRange(view.month);
  const from = Date.parse(range.start);
  const to = Math.min(Date.parse(range.stop), Date.parse(view.openUntil));
  const priced = new Map(view.events.map((e) => [e.event_guid, e]));
  const sized: Sized[] = view.intervals.map((i) => {
    const event = priced.get(i.event_guid);
    // Services carry no size of their own; pricing takes the plan's, which their billable event reports.
    const nodes = i.number_of_nodes ?? event?.number_of_nodes ?? 0;
    return {
      type: i.resource_type,
      start: Math.max(from, Date.parse(i.start)),
      stop: Math.min(to, Date.parse(i.stop)),
      nodes,
      memory: nodes * (i.memory_in_mb ?? event?.memory_in_mb ?? 0),
    };
  });
  const cuts = [...new Set([from, ...sized.flatMap((s) => [s.start, s.stop]), to])]
    .filter((t) => t >= from && t <= to)
    .sort((a, b) => a - b);
  const types = [...new Set(sized.map((s) => s.type))];
  const valueAt = (type: ResourceType, at: number, pick: (s: Sized) => number) => {
    const covering = sized.find((s) => s.type === type && s.start <= at && at < s.stop);
    return covering ? pick(covering) : 0;
  };
  const spec = (pick: (s: Sized) => number): LineChartSpec => ({
    x: cuts.map((t) => t / 1000),
    step: "hour",
    stepped: true,
    decimals: 0,
    series: types.map((type) => ({
      label: type,
      color: TYPE_COLORS[type],
      y: cuts.map((t, i) => valueAt(type, i === cuts.length - 1 ? t - 1 : t, pick)),
    })),
  });
  const window = `${monthName(view.month)}${to < Date.parse(range.stop) ? " so far" : ""}`;
  return html`<div class="chart-grid">
    ${lineChart(
      html`Instances <span class="hint">running at once; staging runs in one container</span>`,
      spec((s) => s.nodes),
      `Instances of the resource over ${window}`,
    )}
    ${lineChart(
      html`Memory MB <span class="hint">all instances together</span>`,
      spec((s) => s.memory),
      `Memory of all instances of the resource over ${window}`,
    )}
  </div>`;
}

const significant = (value: string) => new Money(value).toSignificantDigits(6).toFixed();

function percent(rate: string): string {
  return `${new Money(rate).times(100).toSignificantDigits(6).toFixed()}%`;
}

function size(nodes: number, memoryMb: number): string {
  if (memoryMb === 0) return `${formatNumber(nodes)} ${nodes === 1 ? "node" : "nodes"}`;
  return `${formatNumber(nodes)} × ${formatNumber(memoryMb)} MB`;
}

function eventsTable(view: ResourceView): SafeHtml {
  if (view.events.length === 0) {
    return emptyState(
      "Nothing of this usage was priced.",
      "Its plan has no pricing plan covering this month; add one to billing.pricing_plans.",
    );
  }
  let ex = new Money(0);
  let inc = new Money(0);
  for (const e of view.events) {
    ex = ex.plus(e.price.ex_vat);
    inc = inc.plus(e.price.inc_vat);
  }
  return html`<table class="data cf-events">
    <thead><tr>
      <th>Component</th><th>Pricing plan</th><th>Start (UTC)</th><th>Stop (UTC)</th>
      <th class="num">Ex VAT (${view.currency})</th><th class="num">Inc VAT (${view.currency})</th><th>VAT rate</th>
      <th>Currency rate</th>
    </tr></thead>
    ${view.events.map(
      (e) => html`<tbody>
        <tr class="group-head">
          <th colspan="4">${typeBadge(e.resource_type)} ${utcTime(e.event_start)} → ${utcTime(e.event_stop)}
            <span class="muted">· ${size(e.number_of_nodes, e.memory_in_mb)} · plan <span title="plan_guid ${e.plan_guid}">${e.plan_name}</span> · ${e.space_name}</span></th>
          ${moneyCell(e.price.ex_vat)}${moneyCell(e.price.inc_vat)}<th colspan="2"></th>
        </tr>
        ${e.price.details.map(
          (d) => html`<tr>
            <td>${d.name}</td>
            <td>${d.plan_name}</td>
            <td>${utcTime(d.start)}</td>
            <td>${utcTime(d.stop)}</td>
            ${moneyCell(d.ex_vat)}${moneyCell(d.inc_vat)}
            <td title="vat_rate ${d.vat_rate}">${d.vat_code} ${percent(d.vat_rate)}</td>
            <td title="1 ${d.currency_code} = ${d.currency_rate} ${view.currency}">${d.currency_code} × ${significant(d.currency_rate)}</td>
          </tr>`,
        )}
      </tbody>`,
    )}
    <tfoot><tr class="grand-total">
      <th colspan="4">Total ${monthName(view.month)}</th>
      ${moneyCell(ex.toFixed())}${moneyCell(inc.toFixed(), true)}<td colspan="2"></td>
    </tr></tfoot>
  </table>`;
}

export function resourcePage(view: ResourceView): SafeHtml {
  const first = view.intervals[0];
  const name = first?.resource_name ?? view.guid;
  const org = first?.org_guid ?? view.orgs[0] ?? "";
  const orgName = first?.org_name ?? org;
  const spaces = [...new Set(view.intervals.map((i) => i.space_name))];
  const plans = [...new Set(view.intervals.map((i) => i.plan_name))];
  const types = [...new Set(view.intervals.map((i) => i.resource_type))];
  const head = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="${billingUrl(view.month)}">Billing</a> /
    <a href="${orgUrl(org, view.month)}">${orgName}</a> / <span>${name}</span></nav>
  <div class="page-head"><h1>${name}</h1>${types.map(typeBadge)}</div>
  <dl class="facts">
    <div><dt>Resource guid</dt><dd><code>${view.guid}</code></dd></div>
    <div><dt>Organization</dt><dd><a href="${orgUrl(org, view.month)}">${orgLabel(orgName, org)}</a></dd></div>
    ${spaces.length > 0 && html`<div><dt>${spaces.length === 1 ? "Space" : "Spaces"}</dt><dd>${spaces.join(", ")}</dd></div>`}
    ${plans.length > 0 && html`<div><dt>${plans.length === 1 ? "Plan" : "Plans"}</dt><dd>${plans.join(" → ")}</dd></div>`}
  </dl>
  ${monthBar(view.month, view.current, resourcePath(view.guid))}`;
  if (view.error) return html`${head}${errorCard(view.month, view.error)}`;
  if (view.intervals.length === 0) {
    return html`${head}<section class="card">${emptyState(
      `No usage of this resource in ${monthName(view.month)}.`,
      "Its usage events lie in other months.",
    )}</section>`;
  }
  return html`${head}
  <section class="card">
    <h2>Usage over ${monthName(view.month)} <span class="muted">${view.intervals.length} ${view.intervals.length === 1 ? "interval" : "intervals"}; each start, scale or plan change opens one</span></h2>
    ${usageCharts(view)}
  </section>
  <section class="card">
    <h2>Billable events <span class="muted">each interval's priced part within the month, per component and piece</span></h2>
    ${eventsTable(view)}
    <p class="note">ex VAT = formula × currency rate, inc VAT = ex VAT × (1 + VAT rate). Pieces are cut at month starts
      and plan, VAT and currency rate changes; hover an amount for its exact value.</p>
  </section>`;
}

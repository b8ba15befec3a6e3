import { Money } from "../../billing/decimal.js";
import type { Chargeback, TenantCharge } from "../../billing/vm-chargeback.js";
import { TIERS } from "../../usage/vm-rollup.js";
import { emptyState, formatDecimal, query } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { vcenterHead, vcenterName } from "./vcenters.js";

/** A calendar month ("YYYY-MM") or a single UTC day ("YYYY-MM-DD"). */
export type ChargePeriod = { kind: "month"; value: string } | { kind: "day"; value: string };

export interface ChargebackView {
  period: ChargePeriod;
  result: Chargeback | undefined;
  /** Why the period could not be charged (a malformed month, say). */
  error: string | undefined;
  canRegenerate: boolean;
  /** The period has not ended yet. */
  unfinished: boolean;
  /** What the last regeneration did or why it was refused, shown above the table it reloaded. */
  notice: { text: SafeHtml; refused: boolean } | undefined;
}

export const chargebackUrl = (period: ChargePeriod) =>
  `/vcenters/chargeback${query(period.kind === "month" ? { month: period.value } : { date: period.value })}`;

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

export function periodName(period: ChargePeriod): string {
  const [year, month] = period.value.split("-");
  const name = `${MONTHS[Number(month) - 1] ?? month} ${year}`;
  return period.kind === "month" ? name : period.value;
}

function tenantName(tenant: string): SafeHtml {
  return tenant
    ? html`${tenant}`
    : html`<span class="muted" title="The VM sits at the top of its datacenter">(no tenant)</span>`;
}

const HEADINGS = (currency: string) => html`<tr>
  <th>Tenant</th><th class="num">VMs</th><th class="num">vCPU-hours</th><th class="num">RAM GB-hours</th>
  <th class="num">Disk GB-months</th>
  ${TIERS.map((t) => html`<th class="num${t === "Tin" ? " tier-col" : ""}">${t}</th>`)}
  <th class="num total-col">Total ${currency}</th>
</tr>`;

function tenantRow(t: TenantCharge): SafeHtml {
  return html`<tr>
    <td>${tenantName(t.tenant)}</td>
    <td class="num">${t.vms}</td>
    <td class="num">${formatDecimal(t.vcpu_hours)}</td>
    <td class="num">${formatDecimal(t.ram_gb_hours)}</td>
    <td class="num">${formatDecimal(t.disk_gb_months)}</td>
    ${TIERS.map((tier) => html`<td class="num${tier === "Tin" ? " tier-col" : ""}" title="${t.tiers[tier]}">${formatDecimal(t.tiers[tier])}</td>`)}
    <td class="num total-col" title="exact: ${t.amount}">${formatDecimal(t.total)}</td>
  </tr>`;
}

function totalsRow(result: Chargeback): SafeHtml {
  const add = (pick: (t: TenantCharge) => string) =>
    result.tenants.reduce((s, t) => s.plus(pick(t)), new Money(0)).toFixed();
  return html`<tr class="grand-total">
    <th>Total</th>
    <td class="num">${result.tenants.reduce((n, t) => n + t.vms, 0)}</td>
    <td class="num">${formatDecimal(add((t) => t.vcpu_hours))}</td>
    <td class="num">${formatDecimal(add((t) => t.ram_gb_hours))}</td>
    <td class="num">${formatDecimal(add((t) => t.disk_gb_months))}</td>
    ${TIERS.map((tier) => html`<td class="num${tier === "Tin" ? " tier-col" : ""}">${formatDecimal(add((t) => t.tiers[tier]))}</td>`)}
    <td class="num total-col"><strong>${formatDecimal(result.total)} ${result.currency}</strong></td>
  </tr>`;
}

function nodeCharged(result: Chargeback): SafeHtml {
  if (result.node_charged.length === 0) return html``;
  return html`<h2 class="spaced">Node-charged VMs <span class="muted">${result.node_charged.length} in clusters billed per node (<code>settings.node_charge_clusters</code>), not in the totals above</span></h2>
  <table class="data">
    <thead><tr><th>VM</th><th>VmId</th><th>Tenant</th><th>Cluster</th><th>vCenter</th></tr></thead>
    <tbody>
      ${result.node_charged.map(
        (vm) => html`<tr>
          <td><a href="/vm/trace${query({ vm: vm.VmId })}">${vm.Name}</a></td>
          <td><code>${vm.VmId}</code></td>
          <td>${tenantName(vm.tenant)}</td>
          <td>${vm.Cluster}</td>
          <td>${vcenterName(vm.Vcenter)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function regenerateForm(view: ChargebackView): SafeHtml {
  const { period } = view;
  const what = period.kind === "month" ? `the ${periodName(period)} rollup` : `the rollup of ${period.value}`;
  if (!view.canRegenerate) {
    return html`<button type="button" disabled title="Regenerating needs an admin token">Regenerate</button>`;
  }
  return html`<form method="post" action="/vcenters/chargeback/regenerate" hx-post="/vcenters/chargeback/regenerate"
    hx-target="#chargeback" hx-swap="outerHTML" hx-indicator="#chargeback" hx-disabled-elt="find button">
    <input type="hidden" name="${period.kind === "month" ? "month" : "date"}" value="${period.value}">
    <button type="submit" title="Rebuild ${what} and its reports">Regenerate</button>
  </form>`;
}

/** The section the regenerate button reloads. */
export function chargebackSection(view: ChargebackView): SafeHtml {
  const { period, result } = view;
  const source =
    period.kind === "month"
      ? "A month's rollup is built after its last day from the daily rollups; regenerating builds it now."
      : "A day's rollup is built after midnight UTC from that day's hourly snapshots; regenerating rebuilds it.";
  let body: SafeHtml;
  if (view.error) body = emptyState("This period cannot be charged.", view.error);
  else if (!result || result.tenants.length + result.node_charged.length === 0) {
    body = emptyState(`No rollup for ${periodName(period)} yet.`, source);
  } else {
    body = html`${
      result.tenants.length > 0
        ? html`<table class="data chargeback">
            <thead>${HEADINGS(result.currency)}</thead>
            <tbody>${result.tenants.map(tenantRow)}</tbody>
            <tfoot>${totalsRow(result)}</tfoot>
          </table>
          <p class="note">Tier columns are the tenant's charge in each tier's pools; totals are rounded to the
            currency's minor unit (hover a cell for the exact amount). ${source}</p>`
        : emptyState("Every VM of this period is node-charged.", source)
    }
    ${nodeCharged(result)}`;
  }
  return html`<section class="card" id="chargeback">
    <div class="section-head">
      <h2>${periodName(period)} <span class="muted">${period.kind === "month" ? "whole month" : "one day"}${result ? html` · ${result.currency}` : ""}</span></h2>
      ${regenerateForm(view)}
    </div>
    ${view.notice && html`<p class="${view.notice.refused ? "alert-box" : "notice"}" role="status">${view.notice.text}</p>`}
    ${
      view.unfinished &&
      result &&
      result.tenants.length > 0 &&
      html`<p class="note">This ${period.kind} is not over: the rollup averages the snapshots taken so far and charges
        that average for the whole ${period.kind}.</p>`
    }
    ${body}
  </section>`;
}

export function chargebackPage(view: ChargebackView): SafeHtml {
  const { period } = view;
  return html`${vcenterHead("Chargeback", "chargeback")}
  <div class="period-forms">
    <form class="filters" method="get" action="/vcenters/chargeback">
      <label>Month <input type="month" name="month" value="${period.kind === "month" ? period.value : period.value.slice(0, 7)}" required></label>
      <button type="submit">Show month</button>
    </form>
    <form class="filters" method="get" action="/vcenters/chargeback">
      <label>Day (UTC) <input type="date" name="date" value="${period.kind === "day" ? period.value : ""}" required></label>
      <button type="submit">Show day</button>
    </form>
  </div>
  ${chargebackSection(view)}`;
}

import type { ResourceType } from "../cloudfoundry/events.js";
import type { UsageInterval } from "../cloudfoundry/intervals.js";
import { iso } from "../lib/time.js";
import { Money } from "./decimal.js";
import { FormulaError, type FormulaVariables } from "./formula.js";
import type { CompiledComponent, CompiledPlans, PlanVersion, Timeline } from "./plans.js";

/**
 * Where `ceil()` (and any other non-linear part of a formula) applies.
 *
 * - `slice` (paas-billing): each piece of an interval — cut at month starts, plan versions, VAT and currency rate
 *   changes and the billing range — is priced on its own, so 23:30 31 Jan → 00:30 1 Feb under
 *   `ceil($time_in_seconds/3600)` bills two hours.
 * - `interval`: the formula prices the interval as a whole (per plan version, since a new version brings a new
 *   formula), and each piece is charged what it adds to that whole: f(time up to the piece's end) − f(time up to its
 *   start). The pieces add up to exactly f(whole interval) — the example bills one hour, all of it in January — and a
 *   piece's charge depends only on the time before its end, so a closed month never changes while the interval is
 *   still running, and pricing January and February apart gives the same as pricing them together.
 */
export type CeilScope = "slice" | "interval";

export interface PriceDetail {
  /** The component's name. */
  name: string;
  start: string;
  stop: string;
  /** The name of the plan version that priced the piece. */
  plan_name: string;
  ex_vat: string;
  inc_vat: string;
  vat_rate: string;
  vat_code: string;
  /** The component's currency, which currency_rate converts into the output currency. */
  currency_code: string;
  currency_rate: string;
}

export interface Price {
  inc_vat: string;
  ex_vat: string;
  details: PriceDetail[];
}

export interface BillableEvent {
  event_guid: string;
  /** The priced part of the interval, within the billing range. */
  event_start: string;
  event_stop: string;
  resource_guid: string;
  resource_name: string;
  resource_type: ResourceType;
  org_guid: string;
  org_name: string;
  space_guid: string;
  space_name: string;
  plan_guid: string;
  plan_name: string;
  /** The interval's sizes, or the first priced plan version's where the interval has none (services). */
  number_of_nodes: number;
  memory_in_mb: number;
  storage_in_mb: number;
  price: Price;
}

/** Part of an interval within the range that no version of its plan covers. */
export interface UnpricedUsage {
  interval: UsageInterval;
  start: string;
  stop: string;
}

export interface PricingOptions {
  /** YYYY-MM-DD or ISO-8601; the range is `[rangeStart, rangeStop)`. */
  rangeStart: string;
  rangeStop: string;
  /** The currency of every amount; it needs currency rates like any component currency. */
  currency: string;
  ceilScope?: CeilScope;
  /**
   * Told of usage no pricing plan covers, which is then left out. Without it such usage is a PricingError, so an
   * unpriced plan cannot silently vanish from a bill.
   */
  onUnpriced?: (usage: UnpricedUsage) => void;
}

export class PricingError extends Error {
  override name = "PricingError";
}

function parseTime(label: string, text: string): number {
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new PricingError(`${label} "${text}" is not a date or timestamp`);
  return time;
}

/** Starts of UTC calendar months strictly inside `(start, stop)`. */
function monthStartsWithin(start: number, stop: number): number[] {
  const first = new Date(start);
  const starts: number[] = [];
  for (let m = first.getUTCMonth() + 1; ; m++) {
    const t = Date.UTC(first.getUTCFullYear(), m, 1);
    if (t >= stop) return starts;
    starts.push(t);
  }
}

/** `[start, stop)` cut at UTC month starts. */
export function monthSlices(start: string, stop: string): { start: string; stop: string }[] {
  const from = parseTime("start", start);
  const to = parseTime("stop", stop);
  if (to <= from) return [];
  const cuts = [from, ...monthStartsWithin(from, to), to];
  return cuts.slice(1).map((t, i) => ({ start: iso(cuts[i] as number), stop: iso(t) }));
}

interface Context {
  compiled: CompiledPlans;
  rangeStart: number;
  rangeStop: number;
  output: Timeline<Money>;
  scope: CeilScope;
  onUnpriced: (usage: UnpricedUsage) => void;
}

/**
 * Prices usage intervals over a billing range: one billable event per interval that has priced time in the range,
 * with one detail per component and piece. `ex_vat = formula × currency_rate`, where currency_rate is the
 * component currency's rate divided by the output currency's (both against the base currency), and
 * `inc_vat = ex_vat × (1 + vat_rate)`. Amounts are exact decimals; rounding belongs to bill totals.
 */
export function priceIntervals(
  intervals: readonly UsageInterval[],
  compiled: CompiledPlans,
  options: PricingOptions,
): BillableEvent[] {
  const rangeStart = parseTime("rangeStart", options.rangeStart);
  const rangeStop = parseTime("rangeStop", options.rangeStop);
  if (rangeStop <= rangeStart) {
    throw new PricingError(`the range ${options.rangeStart} → ${options.rangeStop} is empty`);
  }
  const output = compiled.currencyRates.get(options.currency);
  if (!output) throw new PricingError(`no currency rates for the output currency "${options.currency}"`);
  if (output.start > rangeStart) {
    throw new PricingError(`no ${options.currency} currency rate holds on ${iso(rangeStart)}`);
  }
  const context: Context = {
    compiled,
    rangeStart,
    rangeStop,
    output,
    scope: options.ceilScope ?? "slice",
    onUnpriced:
      options.onUnpriced ??
      (({ interval, start, stop }) => {
        throw new PricingError(
          `no pricing plan ${interval.plan_guid} (${interval.plan_name}) for ${interval.resource_type} ` +
            `${interval.resource_guid} from ${start} to ${stop}`,
        );
      }),
  };
  const events: BillableEvent[] = [];
  for (const interval of intervals) {
    const event = priceInterval(interval, context);
    if (event) events.push(event);
  }
  return events;
}

function priceInterval(interval: UsageInterval, context: Context): BillableEvent | undefined {
  const start = parseTime(`interval ${interval.event_guid} start`, interval.start);
  const stop = parseTime(`interval ${interval.event_guid} stop`, interval.stop);
  const from = Math.max(start, context.rangeStart);
  const to = Math.min(stop, context.rangeStop);
  if (from >= to) return undefined;

  const timeline = context.compiled.plans.get(interval.plan_guid);
  // Plan versions follow each other without gaps, so only time before the first version can lack a plan.
  const pricedFrom = Math.max(from, timeline?.start ?? Number.POSITIVE_INFINITY);
  if (pricedFrom > from) context.onUnpriced({ interval, start: iso(from), stop: iso(Math.min(pricedFrom, to)) });
  const versions = timeline?.overlapping(pricedFrom, to) ?? [];
  const first = versions[0]?.value;
  if (!first) return undefined;

  const pieces: { at: number; detail: PriceDetail; exVat: Money; incVat: Money }[] = [];
  for (const version of versions) {
    const plan = version.value;
    const variables = {
      memory_in_mb: interval.memory_in_mb ?? plan.memory_in_mb,
      storage_in_mb: interval.storage_in_mb ?? plan.storage_in_mb,
      number_of_nodes: interval.number_of_nodes ?? plan.number_of_nodes,
    };
    // The whole interval under this version, before the range clips it: `interval` scope measures from here.
    const wholeStart = Math.max(start, version.from);
    const a = Math.max(wholeStart, context.rangeStart);
    const b = Math.min(stop, version.until, context.rangeStop);
    for (const component of plan.components) {
      pieces.push(...priceComponent(interval, plan, component, variables, wholeStart, a, b, context));
    }
  }
  pieces.sort((x, y) => x.at - y.at);

  const exVat = pieces.reduce((sum, p) => sum.plus(p.exVat), new Money(0));
  const incVat = pieces.reduce((sum, p) => sum.plus(p.incVat), new Money(0));
  return {
    event_guid: interval.event_guid,
    event_start: iso(pricedFrom),
    event_stop: iso(to),
    resource_guid: interval.resource_guid,
    resource_name: interval.resource_name,
    resource_type: interval.resource_type,
    org_guid: interval.org_guid,
    org_name: interval.org_name,
    space_guid: interval.space_guid,
    space_name: interval.space_name,
    plan_guid: interval.plan_guid,
    plan_name: interval.plan_name,
    number_of_nodes: interval.number_of_nodes ?? first.number_of_nodes,
    memory_in_mb: interval.memory_in_mb ?? first.memory_in_mb,
    storage_in_mb: interval.storage_in_mb ?? first.storage_in_mb,
    price: { inc_vat: incVat.toFixed(), ex_vat: exVat.toFixed(), details: pieces.map((p) => p.detail) },
  };
}

function rateAt(timeline: Timeline<Money>, at: number, what: string): Money {
  const rate = timeline.at(at)?.value;
  if (!rate) throw new PricingError(`no ${what} holds on ${iso(at)}`);
  return rate;
}

/** Prices one component over `[a, b)`, the part of the whole `[wholeStart, …)` inside the range. */
function priceComponent(
  interval: UsageInterval,
  plan: PlanVersion,
  component: CompiledComponent,
  size: Omit<FormulaVariables, "time_in_seconds">,
  wholeStart: number,
  a: number,
  b: number,
  context: Context,
): { at: number; detail: PriceDetail; exVat: Money; incVat: Money }[] {
  const evaluate = (milliseconds: number): Money => {
    try {
      return component.formula.evaluate({ ...size, time_in_seconds: new Money(milliseconds).dividedBy(1000) });
    } catch (error) {
      if (!(error instanceof FormulaError)) throw error;
      throw new PricingError(
        `pricing plan "${plan.name}" (plan_guid ${plan.plan_guid}) component "${component.name}" ` +
          `for ${interval.resource_type} ${interval.resource_guid}: ${error.message}`,
      );
    }
  };
  const cuts = [
    ...new Set([
      a,
      ...monthStartsWithin(a, b),
      ...component.vatRates.changesWithin(a, b),
      ...component.currencyRates.changesWithin(a, b),
      ...context.output.changesWithin(a, b),
      b,
    ]),
  ].sort((x, y) => x - y);

  let chargedSoFar = context.scope === "interval" && a > wholeStart ? evaluate(a - wholeStart) : new Money(0);
  return cuts.slice(1).map((q, i) => {
    const p = cuts[i] as number;
    let amount: Money;
    if (context.scope === "slice") {
      amount = evaluate(q - p);
    } else {
      const charged = evaluate(q - wholeStart);
      amount = charged.minus(chargedSoFar);
      chargedSoFar = charged;
    }
    const vatRate = rateAt(component.vatRates, p, `${component.vat_code} VAT rate`);
    const currencyRate = rateAt(component.currencyRates, p, `${component.currency_code} currency rate`).dividedBy(
      rateAt(context.output, p, "output currency rate"),
    );
    const exVat = amount.times(currencyRate);
    const incVat = exVat.times(vatRate.plus(1));
    return {
      at: p,
      exVat,
      incVat,
      detail: {
        name: component.name,
        start: iso(p),
        stop: iso(q),
        plan_name: plan.name,
        ex_vat: exVat.toFixed(),
        inc_vat: incVat.toFixed(),
        vat_rate: vatRate.toFixed(),
        vat_code: component.vat_code,
        currency_code: component.currency_code,
        currency_rate: currencyRate.toFixed(),
      },
    };
  });
}

/** Exact totals of billable events; round them with roundMinor only where a bill shows them. */
export function sumPrices(events: readonly { price: { ex_vat: string; inc_vat: string } }[]): {
  ex_vat: string;
  inc_vat: string;
} {
  let exVat = new Money(0);
  let incVat = new Money(0);
  for (const event of events) {
    exVat = exVat.plus(event.price.ex_vat);
    incVat = incVat.plus(event.price.inc_vat);
  }
  return { ex_vat: exVat.toFixed(), inc_vat: incVat.toFixed() };
}

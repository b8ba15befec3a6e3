import type { ResourceType } from "../cloudfoundry/events.js";
import type { UsageInterval } from "../cloudfoundry/intervals.js";
import { iso } from "../lib/time.js";
import type { ExactVariables } from "./compiled-formula.js";
import { Money } from "./decimal.js";
import { type Exact, exactOf, fromMoney, minus, plus, times, toFixed, toMoney, ZERO } from "./exact.js";
import { FormulaError, type FormulaVariable } from "./formula.js";
import type { CompiledComponent, CompiledPlans, PlanVersion, Timeline, Validity } from "./plans.js";

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

interface Rates {
  /** The component currency's rate divided by the output currency's. */
  currency: Exact;
  currencyText: string;
  /** 1 + the VAT rate. */
  vatFactor: Exact;
  vatText: string;
}

interface ComponentCuts {
  /** Month starts and rate changes strictly inside the range, ascending. */
  inner: number[];
  /** The rates from the range's start (index 0) and from each inner cut, made when a piece first needs them. */
  rates: (Rates | undefined)[];
}

interface Context {
  compiled: CompiledPlans;
  rangeStart: number;
  rangeStop: number;
  output: Timeline<Money>;
  scope: CeilScope;
  onUnpriced: (usage: UnpricedUsage) => void;
  /** Month starts strictly inside the range. */
  monthStarts: number[];
  /** Per component, where pieces are cut and the rates of each stretch between cuts, found once per call. */
  components: Map<CompiledComponent, ComponentCuts>;
  /** ISO texts of shared boundaries (range, month starts, rate changes), formatted once per call. */
  times: Map<number, string>;
}

/** What a bill needs of one interval's price: its totals and the plan version that priced its first piece. */
export interface PricedTotals {
  interval: UsageInterval;
  plan_name: string;
  ex_vat: Money;
  inc_vat: Money;
  /** The same totals as Exact values, which bills add up without making Money of each. */
  exact: { ex_vat: Exact; inc_vat: Exact };
}

/** Money is made of a total only when asked for: a bill adds the Exact values and never asks. */
class Totals implements PricedTotals {
  constructor(
    readonly interval: UsageInterval,
    readonly plan_name: string,
    readonly exact: { ex_vat: Exact; inc_vat: Exact },
  ) {}

  get ex_vat(): Money {
    return toMoney(this.exact.ex_vat);
  }

  get inc_vat(): Money {
    return toMoney(this.exact.inc_vat);
  }
}

function pricingContext(compiled: CompiledPlans, options: PricingOptions): Context {
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
  return {
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
    monthStarts: monthStartsWithin(rangeStart, rangeStop),
    components: new Map(),
    times: new Map(),
  };
}

function cutsOf(component: CompiledComponent, context: Context): ComponentCuts {
  let cuts = context.components.get(component);
  if (!cuts) {
    const { rangeStart: start, rangeStop: stop } = context;
    const inner = [
      ...new Set([
        ...context.monthStarts,
        ...component.vatRates.changesWithin(start, stop),
        ...component.currencyRates.changesWithin(start, stop),
        ...context.output.changesWithin(start, stop),
      ]),
    ].sort((x, y) => x - y);
    cuts = { inner, rates: [] };
    context.components.set(component, cuts);
  }
  return cuts;
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
  const context = pricingContext(compiled, options);
  const events: BillableEvent[] = [];
  for (const interval of intervals) {
    const priced = priceInterval(interval, context, true);
    // With details asked for, every priced interval carries its bounds.
    if (priced?.bounds) events.push(toBillableEvent(priced, priced.bounds));
  }
  return events;
}

/**
 * The same prices as priceIntervals, as Decimal totals per interval without the per-piece details and amount
 * strings: what a bill reads, at a fraction of the cost for a month of a whole foundation.
 */
export function priceTotals(
  intervals: readonly UsageInterval[],
  compiled: CompiledPlans,
  options: PricingOptions,
): PricedTotals[] {
  const context = pricingContext(compiled, options);
  const out: PricedTotals[] = [];
  for (const interval of intervals) {
    const priced = priceInterval(interval, context, false);
    if (priced) {
      const planName = priced.pieces[0]?.plan_name ?? interval.plan_name;
      out.push(new Totals(interval, planName, { ex_vat: priced.exVat, inc_vat: priced.incVat }));
    }
  }
  return out;
}

interface Piece {
  at: number;
  plan_name: string;
  exVat: Exact;
  incVat: Exact;
  detail: PriceDetail | undefined;
}

interface PricedInterval {
  interval: UsageInterval;
  first: PlanVersion;
  /** The priced part as ISO texts, formatted only where the details are wanted. */
  bounds: { start: string; stop: string } | undefined;
  pieces: Piece[];
  exVat: Exact;
  incVat: Exact;
}

function toBillableEvent(p: PricedInterval, bounds: { start: string; stop: string }): BillableEvent {
  const { interval, first } = p;
  return {
    event_guid: interval.event_guid,
    event_start: bounds.start,
    event_stop: bounds.stop,
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
    price: {
      inc_vat: toFixed(p.incVat),
      ex_vat: toFixed(p.exVat),
      details: p.pieces.map((piece) => piece.detail as PriceDetail),
    },
  };
}

function priceInterval(interval: UsageInterval, context: Context, withDetails: boolean): PricedInterval | undefined {
  const start = parseTime(`interval ${interval.event_guid} start`, interval.start);
  const stop = parseTime(`interval ${interval.event_guid} stop`, interval.stop);
  const from = Math.max(start, context.rangeStart);
  const to = Math.min(stop, context.rangeStop);
  if (from >= to) return undefined;
  const text = withDetails ? detailTimes(start, stop, context) : undefined;

  const timeline = context.compiled.plans.get(interval.plan_guid);
  // Plan versions follow each other without gaps, so only time before the first version can lack a plan.
  const pricedFrom = Math.max(from, timeline?.start ?? Number.POSITIVE_INFINITY);
  if (pricedFrom > from) context.onUnpriced({ interval, start: iso(from), stop: iso(Math.min(pricedFrom, to)) });
  const versions = timeline?.overlapping(pricedFrom, to) ?? [];
  const first = versions[0]?.value;
  if (!first) return undefined;

  const pieces: Piece[] = [];
  for (const version of versions) {
    const plan = version.value;
    const size: ExactVariables = {
      memory_in_mb: sizeOf("memory_in_mb", interval.memory_in_mb ?? plan.memory_in_mb),
      storage_in_mb: sizeOf("storage_in_mb", interval.storage_in_mb ?? plan.storage_in_mb),
      number_of_nodes: sizeOf("number_of_nodes", interval.number_of_nodes ?? plan.number_of_nodes),
      time_in_seconds: ZERO,
    };
    // The whole interval under this version, before the range clips it: `interval` scope measures from here.
    const wholeStart = Math.max(start, version.from);
    const a = Math.max(wholeStart, context.rangeStart);
    const b = Math.min(stop, version.until, context.rangeStop);
    for (const component of plan.components) {
      priceComponent(pieces, interval, plan, component, size, wholeStart, a, b, context, text);
    }
  }
  // Stable, so pieces that start together keep their component order: sums round in the order Money summed them.
  if (pieces.length > 1) pieces.sort((x, y) => x.at - y.at);

  let exVat = ZERO;
  let incVat = ZERO;
  for (const piece of pieces) {
    exVat = plus(exVat, piece.exVat);
    incVat = plus(incVat, piece.incVat);
  }
  const bounds = text ? { start: text(pricedFrom), stop: text(to) } : undefined;
  return { interval, first, bounds, pieces, exVat, incVat };
}

/** ISO texts for details: shared boundaries (range, month starts, rate changes) once per call, the interval's once. */
function detailTimes(start: number, stop: number, context: Context): (t: number) => string {
  let startText: string | undefined;
  let stopText: string | undefined;
  return (t: number): string => {
    if (t === start) {
      startText ??= iso(start);
      return startText;
    }
    if (t === stop) {
      stopText ??= iso(stop);
      return stopText;
    }
    let formatted = context.times.get(t);
    if (formatted === undefined) {
      formatted = iso(t);
      context.times.set(t, formatted);
    }
    return formatted;
  };
}

function sizeOf(name: FormulaVariable, value: number): Exact {
  if (!Number.isFinite(value)) throw new PricingError(`$${name} is not a finite number (got "${value}")`);
  return exactOf(value);
}

function validityAt(timeline: Timeline<Money>, at: number, what: string): Validity<Money> {
  const entry = timeline.at(at);
  if (!entry) throw new PricingError(`no ${what} holds on ${iso(at)}`);
  return entry;
}

/** The rates at `at`, inside the range: they hold from the last cut at or before it. */
function ratesAt(component: CompiledComponent, cuts: ComponentCuts, at: number, context: Context): Rates {
  let stretch = 0;
  while (stretch < cuts.inner.length && (cuts.inner[stretch] as number) <= at) stretch++;
  let rates = cuts.rates[stretch];
  if (!rates) {
    const vat = validityAt(component.vatRates, at, `${component.vat_code} VAT rate`);
    const currency = validityAt(component.currencyRates, at, `${component.currency_code} currency rate`);
    const output = validityAt(context.output, at, "output currency rate");
    const quotient = currency.value.dividedBy(output.value);
    rates = {
      currency: fromMoney(quotient),
      currencyText: quotient.toFixed(),
      vatFactor: fromMoney(vat.value.plus(1)),
      vatText: vat.value.toFixed(),
    };
    cuts.rates[stretch] = rates;
  }
  return rates;
}

/** The component's formula over `milliseconds` of usage, its errors named after the plan and the resource. */
function evaluate(
  component: CompiledComponent,
  size: ExactVariables,
  milliseconds: number,
  plan: PlanVersion,
  interval: UsageInterval,
): Exact {
  try {
    // Milliseconds as a decimal exponent: exactly ms / 1000 without a division.
    size.time_in_seconds = { coefficient: BigInt(milliseconds), exponent: -3 };
    return component.exact(size);
  } catch (error) {
    if (!(error instanceof FormulaError)) throw error;
    throw new PricingError(
      `pricing plan "${plan.name}" (plan_guid ${plan.plan_guid}) component "${component.name}" ` +
        `for ${interval.resource_type} ${interval.resource_guid}: ${error.message}`,
    );
  }
}

/** Prices one component over `[a, b)`, the part of the whole `[wholeStart, …)` inside the range. */
function priceComponent(
  pieces: Piece[],
  interval: UsageInterval,
  plan: PlanVersion,
  component: CompiledComponent,
  /** The sizes; its time is set here for each evaluation. */
  size: ExactVariables,
  wholeStart: number,
  a: number,
  b: number,
  context: Context,
  text: ((t: number) => string) | undefined,
): void {
  if (a >= b) return;
  const componentCuts = cutsOf(component, context);
  // [a, b) lies inside the range, so the cuts strictly inside it are among the range's.
  const cuts = [a];
  for (const t of componentCuts.inner) if (a < t && t < b) cuts.push(t);
  cuts.push(b);

  let chargedSoFar =
    context.scope === "interval" && a > wholeStart ? evaluate(component, size, a - wholeStart, plan, interval) : ZERO;
  for (let i = 1; i < cuts.length; i++) {
    const p = cuts[i - 1] as number;
    const q = cuts[i] as number;
    let amount: Exact;
    if (context.scope === "slice") {
      amount = evaluate(component, size, q - p, plan, interval);
    } else {
      const charged = evaluate(component, size, q - wholeStart, plan, interval);
      amount = minus(charged, chargedSoFar);
      chargedSoFar = charged;
    }
    const rates = ratesAt(component, componentCuts, p, context);
    const exVat = times(amount, rates.currency);
    const incVat = times(exVat, rates.vatFactor);
    pieces.push({
      at: p,
      plan_name: plan.name,
      exVat,
      incVat,
      detail: text && {
        name: component.name,
        start: text(p),
        stop: text(q),
        plan_name: plan.name,
        ex_vat: toFixed(exVat),
        inc_vat: toFixed(incVat),
        vat_rate: rates.vatText,
        vat_code: component.vat_code,
        currency_code: component.currency_code,
        currency_rate: rates.currencyText,
      },
    });
  }
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

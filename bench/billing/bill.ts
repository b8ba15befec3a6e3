import { Money, roundMinor } from "../../src/billing/decimal.js";
import { priceTotals } from "../../src/billing/pricing.js";
import {
  type Bill,
  type BillingDeps,
  groupBill,
  intervalsInRange,
  loadTransitions,
  sumTotals,
  monthlyBill,
  monthRange,
  pricingOptions,
  type Range,
} from "../../src/cloudfoundry/billing.js";
import { percentile, round } from "../lib/stats.js";

export interface Timing {
  runs_s: number[];
  best_s: number;
  median_s: number;
  /** CPU of this process (all its threads, so parallel GC can push it above wall time). */
  cpu_s: number[];
  best_cpu_s: number;
}

export interface Measured<T> {
  value: T;
  seconds: number;
  cpu: number;
}

export async function measure<T>(task: () => T | Promise<T>): Promise<Measured<T>> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await task();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { value, seconds, cpu: (used.user + used.system) / 1e6 };
}

export function timing(runs: readonly Spent[]): Timing {
  const seconds = runs.map((r) => r.seconds);
  const cpu = runs.map((r) => r.cpu);
  return {
    runs_s: seconds.map((s) => round(s, 3)),
    best_s: round(Math.min(...seconds), 3),
    median_s: round(percentile(seconds, 0.5), 3),
    cpu_s: cpu.map((c) => round(c, 3)),
    best_cpu_s: round(Math.min(...cpu), 3),
  };
}

/** The stages of monthlyBill, each timed by calling the exported function monthlyBill calls. */
export interface Split {
  /** loadTransitions: the SQL query and the rows of the billed events. */
  load: Timing;
  /** intervalsInRange: the intervals of those events that overlap the month. */
  intervals: Timing;
  /** priceTotals: what the limit times alone. */
  price: Timing;
  /** groupBill and sumTotals. */
  group: Timing;
}

export interface BillResult {
  month: string;
  orgs: number;
  events_loaded: number;
  intervals: number;
  billable_events: number;
  /** Usage no pricing plan covers; the bench prices every plan, so anything here is a bug. */
  unpriced: number;
  total_ex_vat: string;
  total_inc_vat: string;
  /** The split's own ex-VAT total, which must equal the bill's. */
  split_total_ex_vat: string;
  ours: Timing;
  split: Split;
  peak_rss_mb: number;
}

const MB = 1024 * 1024;

/** A run's time without its value: keeping a million events' results across runs would squeeze the later runs' heap. */
export interface Spent {
  seconds: number;
  cpu: number;
}

export const spent = (m: Measured<unknown>): Spent => ({ seconds: m.seconds, cpu: m.cpu });

async function splitRun(deps: BillingDeps, range: Range) {
  const load = await measure(() => loadTransitions(deps.db, undefined, range.stop));
  const events = load.value.length;
  const intervals = await measure(() => intervalsInRange(deps.settings, load.value, range, range.stop));
  // monthlyBill lets go of the events once it has the intervals; emptying the array lets pricing run with the same heap.
  load.value.length = 0;
  const price = await measure(() =>
    priceTotals(intervals.value, deps.plans, pricingOptions({ ...deps, onUnpriced: () => undefined }, range)),
  );
  const group = await measure(() => ({ orgs: groupBill(price.value), totals: sumTotals(price.value) }));
  return {
    stages: { load: spent(load), intervals: spent(intervals), price: spent(price), group: spent(group) },
    events,
    intervals: intervals.value.length,
    billable: price.value.length,
    orgs: group.value.orgs.length,
    ex_vat: group.value.totals.ex_vat.toFixed(),
  };
}

/**
 * `runs` alternating runs of monthlyBill for every org and of its four stages called one by one, so a change of
 * machine load hits both alike.
 */
export async function benchBill(
  deps: BillingDeps,
  month: string,
  runs: number,
  log: (line: string) => void,
): Promise<BillResult> {
  const range = monthRange(month);
  let unpriced = 0;
  const billDeps: BillingDeps = { ...deps, onUnpriced: () => unpriced++ };
  const ours: Spent[] = [];
  let bill: Bill | undefined;
  const splits: Awaited<ReturnType<typeof splitRun>>[] = [];
  for (let run = 1; run <= runs; run++) {
    const measured = await measure(() => monthlyBill(billDeps, month, undefined));
    ours.push(spent(measured));
    bill = measured.value;
    log(`  monthlyBill run ${run}: ${measured.seconds.toFixed(2)} s (CPU ${measured.cpu.toFixed(2)} s)`);
    const split = await splitRun(deps, range);
    splits.push(split);
    const s = split.stages;
    log(
      `  stages run ${run}: load ${s.load.seconds.toFixed(2)} s, intervals ${s.intervals.seconds.toFixed(2)} s, ` +
        `price ${s.price.seconds.toFixed(2)} s, group ${s.group.seconds.toFixed(2)} s`,
    );
  }
  const split = splits.at(-1);
  if (!bill || !split) throw new RangeError("at least one run is needed");
  const stage = (name: keyof Split) => timing(splits.map((s) => s.stages[name]));
  const stages: Split = {
    load: stage("load"),
    intervals: stage("intervals"),
    price: stage("price"),
    group: stage("group"),
  };
  return {
    month,
    orgs: bill.orgs.length,
    events_loaded: split.events,
    intervals: split.intervals,
    billable_events: split.billable,
    unpriced,
    total_ex_vat: bill.totals.ex_vat,
    total_inc_vat: bill.totals.inc_vat,
    split_total_ex_vat: roundMinor(new Money(split.ex_vat)),
    ours: timing(ours),
    split: stages,
    peak_rss_mb: Math.round((process.resourceUsage().maxRSS * 1024) / MB),
  };
}

export interface LimitResult {
  intervals: number;
  billable_events: number;
  timing: Timing;
}

/**
 * The limit: the same intervals, built once and not timed, priced by priceTotals (the formulas, rates and sums a
 * bill needs) in a loop with no storage on either side.
 */
export async function benchLimit(
  deps: BillingDeps,
  month: string,
  runs: number,
  log: (line: string) => void,
): Promise<LimitResult> {
  const range = monthRange(month);
  const intervals = intervalsInRange(
    deps.settings,
    await loadTransitions(deps.db, undefined, range.stop),
    range,
    range.stop,
  );
  const options = pricingOptions({ ...deps, onUnpriced: () => undefined }, range);
  const measured: Spent[] = [];
  let billable = 0;
  for (let run = 1; run <= runs; run++) {
    const priced = await measure(() => priceTotals(intervals, deps.plans, options));
    measured.push(spent(priced));
    billable = priced.value.length;
    log(`  limit run ${run}: ${priced.seconds.toFixed(2)} s (CPU ${priced.cpu.toFixed(2)} s)`);
  }
  return { intervals: intervals.length, billable_events: billable, timing: timing(measured) };
}

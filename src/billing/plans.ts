import { Money } from "./decimal.js";
import { type CompiledFormula, compileFormula } from "./compiled-formula.js";
import { type Formula, FormulaError, parseFormula } from "./formula.js";

export const VAT_CODES = ["Standard", "Reduced", "Zero"] as const;
export type VatCode = (typeof VAT_CODES)[number];

/** paas-billing's rate-card records. Codes are plain strings as settings deliver them; compilePlans checks them. */
export interface PricingPlanComponent {
  name: string;
  formula: string;
  currency_code: string;
  /** Standard, Reduced or Zero. */
  vat_code: string;
}

export interface PricingPlan {
  name: string;
  plan_guid: string;
  /** YYYY-MM-DD, the first day of a month; the version holds until the next version's valid_from. */
  valid_from: string;
  /** Sizes for resources that report none (services); 0 when absent. */
  memory_in_mb?: number;
  storage_in_mb?: number;
  number_of_nodes?: number;
  components: PricingPlanComponent[];
}

export interface VatRate {
  /** Standard, Reduced or Zero. */
  code: string;
  /** YYYY-MM-DD; any day, as tax changes need not wait for a month. */
  valid_from: string;
  rate: number | string;
}

/**
 * `rate` is what one unit of `code` is worth in the base currency (the one whose rate is 1, GBP in paas-billing):
 * `{ code: "USD", rate: 0.8 }` reads 1 USD = 0.8 GBP.
 */
export interface CurrencyRate {
  code: string;
  valid_from: string;
  rate: number | string;
}

export class PlanError extends Error {
  override name = "PlanError";
}

/** One value of a timeline: valid over `[from, until)` in epoch milliseconds. */
export interface Validity<T> {
  valid_from: string;
  from: number;
  until: number;
  value: T;
}

/** Values that each hold from their valid_from until the next one's; nothing holds before the first. */
export class Timeline<T> {
  readonly entries: readonly Validity<T>[];

  constructor(values: readonly { valid_from: string; from: number; value: T }[]) {
    const sorted = [...values].sort((a, b) => a.from - b.from);
    this.entries = sorted.map((v, i) => ({ ...v, until: sorted[i + 1]?.from ?? Number.POSITIVE_INFINITY }));
  }

  /** When the first value starts to hold. */
  get start(): number {
    return this.entries[0]?.from ?? Number.POSITIVE_INFINITY;
  }

  at(time: number | string): Validity<T> | undefined {
    const t = typeof time === "number" ? time : Date.parse(time);
    return this.entries.find((e) => e.from <= t && t < e.until);
  }

  overlapping(start: number, stop: number): Validity<T>[] {
    return this.entries.filter((e) => e.from < stop && start < e.until);
  }

  /** Instants strictly inside `(start, stop)` where the value changes. */
  changesWithin(start: number, stop: number): number[] {
    return this.entries.map((e) => e.from).filter((t) => start < t && t < stop);
  }
}

export interface CompiledComponent {
  name: string;
  formula: Formula;
  /** The formula over Exact values, which pricing evaluates. */
  exact: CompiledFormula;
  currency_code: string;
  vat_code: VatCode;
  /** The timelines of vat_code and currency_code; both hold from the version's valid_from on. */
  vatRates: Timeline<Money>;
  currencyRates: Timeline<Money>;
}

export interface PlanVersion {
  name: string;
  plan_guid: string;
  valid_from: string;
  memory_in_mb: number;
  storage_in_mb: number;
  number_of_nodes: number;
  components: readonly CompiledComponent[];
}

export interface CompiledPlans {
  plans: ReadonlyMap<string, Timeline<PlanVersion>>;
  vatRates: ReadonlyMap<VatCode, Timeline<Money>>;
  currencyRates: ReadonlyMap<string, Timeline<Money>>;
}

const isVatCode = (code: string): code is VatCode => (VAT_CODES as readonly string[]).includes(code);

/** Epoch milliseconds of a YYYY-MM-DD date at 00:00 UTC; undefined unless it is a real date. */
function parseDate(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? time : undefined;
}

function parseRate(text: number | string, positive: boolean): Money | undefined {
  try {
    const rate = new Money(String(text));
    const ok = rate.isFinite() && (positive ? rate.isPositive() && !rate.isZero() : !rate.isNegative());
    return ok ? rate : undefined;
  } catch {
    return undefined;
  }
}

function compileRates<C extends string>(
  label: string,
  rates: readonly { code: string; valid_from: string; rate: number | string }[],
  validCode: (code: string) => code is C,
  positive: boolean,
): Map<C, Timeline<Money>> {
  const byCode = new Map<C, { valid_from: string; from: number; value: Money }[]>();
  for (const r of rates) {
    const where = `${label} ${r.code} valid_from ${r.valid_from}`;
    if (!validCode(r.code)) throw new PlanError(`${where}: unknown code "${r.code}"`);
    const from = parseDate(r.valid_from);
    if (from === undefined) throw new PlanError(`${where}: valid_from must be a date (YYYY-MM-DD)`);
    const value = parseRate(r.rate, positive);
    if (!value) {
      throw new PlanError(
        `${where}: rate must be a ${positive ? "positive" : "non-negative"} decimal (got "${r.rate}")`,
      );
    }
    const versions = byCode.get(r.code) ?? [];
    if (versions.some((v) => v.from === from)) throw new PlanError(`${where}: given twice`);
    versions.push({ valid_from: r.valid_from, from, value });
    byCode.set(r.code, versions);
  }
  return new Map([...byCode].map(([code, versions]) => [code, new Timeline(versions)]));
}

function size(where: string, field: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new PlanError(`${where}: ${field} must be a number ≥ 0 (got ${JSON.stringify(value)})`);
  }
  return value;
}

/**
 * Validates a rate card and indexes it by time. Every component's formula must parse, and its VAT and currency
 * rates must already hold on the version's valid_from: after that, pricing can never meet a component it cannot
 * price.
 */
export function compilePlans(
  plans: readonly PricingPlan[],
  vatRates: readonly VatRate[],
  currencyRates: readonly CurrencyRate[],
): CompiledPlans {
  const vat = compileRates("VAT rate", vatRates, isVatCode, false);
  const currency = compileRates(
    "currency rate",
    currencyRates,
    (code): code is string => /^[A-Z]{3}$/.test(code),
    true,
  );

  const byGuid = new Map<string, { valid_from: string; from: number; value: PlanVersion }[]>();
  for (const plan of plans) {
    const where = `pricing plan "${plan.name}" (plan_guid ${plan.plan_guid})`;
    if (typeof plan.name !== "string" || plan.name === "") throw new PlanError(`${where}: name must not be empty`);
    if (typeof plan.plan_guid !== "string" || plan.plan_guid === "") {
      throw new PlanError(`${where}: plan_guid must not be empty`);
    }
    const from = parseDate(plan.valid_from);
    if (from === undefined || new Date(from).getUTCDate() !== 1) {
      throw new PlanError(`${where}: valid_from "${plan.valid_from}" must be the first day of a month (YYYY-MM-01)`);
    }
    if (!Array.isArray(plan.components)) throw new PlanError(`${where}: components must be a list`);
    const names = new Set<string>();
    const components = plan.components.map((c): CompiledComponent => {
      const at = `${where} component "${c.name}"`;
      if (typeof c.name !== "string" || c.name === "") throw new PlanError(`${where}: a component has no name`);
      if (names.has(c.name)) throw new PlanError(`${at}: the name is used twice`);
      names.add(c.name);
      let formula: Formula;
      try {
        formula = parseFormula(String(c.formula));
      } catch (error) {
        if (error instanceof FormulaError) throw new PlanError(`${at}: ${error.message}`);
        throw error;
      }
      if (!isVatCode(c.vat_code)) throw new PlanError(`${at}: unknown vat_code "${c.vat_code}"`);
      const vatTimeline = vat.get(c.vat_code);
      if (!vatTimeline) throw new PlanError(`${at}: no VAT rate for vat_code "${c.vat_code}"`);
      if (vatTimeline.start > from) {
        throw new PlanError(`${at}: no ${c.vat_code} VAT rate holds on ${plan.valid_from}`);
      }
      const currencyTimeline = currency.get(c.currency_code);
      if (!currencyTimeline) throw new PlanError(`${at}: unknown currency_code "${c.currency_code}"`);
      if (currencyTimeline.start > from) {
        throw new PlanError(`${at}: no ${c.currency_code} currency rate holds on ${plan.valid_from}`);
      }
      return {
        name: c.name,
        formula,
        exact: compileFormula(formula.ast),
        currency_code: c.currency_code,
        vat_code: c.vat_code,
        vatRates: vatTimeline,
        currencyRates: currencyTimeline,
      };
    });
    const version: PlanVersion = {
      name: plan.name,
      plan_guid: plan.plan_guid,
      valid_from: plan.valid_from,
      memory_in_mb: size(where, "memory_in_mb", plan.memory_in_mb),
      storage_in_mb: size(where, "storage_in_mb", plan.storage_in_mb),
      number_of_nodes: size(where, "number_of_nodes", plan.number_of_nodes),
      components,
    };
    const versions = byGuid.get(plan.plan_guid) ?? [];
    if (versions.some((v) => v.from === from))
      throw new PlanError(`${where}: valid_from ${plan.valid_from} is given twice`);
    versions.push({ valid_from: plan.valid_from, from, value: version });
    byGuid.set(plan.plan_guid, versions);
  }

  return {
    plans: new Map([...byGuid].map(([guid, versions]) => [guid, new Timeline(versions)])),
    vatRates: vat,
    currencyRates: currency,
  };
}

import { describe, expect, it } from "vitest";
import {
  type CurrencyRate,
  compilePlans,
  PlanError,
  type PricingPlan,
  Timeline,
  type VatRate,
} from "../../src/billing/plans.js";

const APP = "f4d4b95a-f55e-4593-8d54-3364c25798c4";
const vat: VatRate[] = [
  { code: "Standard", valid_from: "1970-01-01", rate: 0.2 },
  { code: "Standard", valid_from: "2011-01-04", rate: "0.2" },
  { code: "Zero", valid_from: "1970-01-01", rate: 0 },
];
const currency: CurrencyRate[] = [
  { code: "GBP", valid_from: "1970-01-01", rate: 1 },
  { code: "USD", valid_from: "2017-01-01", rate: 0.8 },
];
const plan = (over: Partial<PricingPlan> = {}): PricingPlan => ({
  name: "app",
  plan_guid: APP,
  valid_from: "2017-01-01",
  components: [
    { name: "compute", formula: "ceil($time_in_seconds/3600) * 0.01", currency_code: "GBP", vat_code: "Standard" },
  ],
  ...over,
});
const compileError = (plans: PricingPlan[], vatRates = vat, currencyRates = currency) => {
  try {
    compilePlans(plans, vatRates, currencyRates);
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as Error).message;
  }
  throw new Error("expected a PlanError");
};

describe("compilePlans", () => {
  it("finds the plan version valid at a time, each valid until the next", () => {
    const compiled = compilePlans(
      [
        plan({ name: "PLAN2", valid_from: "2017-02-01" }),
        plan({ name: "PLAN1", valid_from: "2017-01-01", memory_in_mb: 512, number_of_nodes: 3 }),
      ],
      vat,
      currency,
    );
    const versions = compiled.plans.get(APP);
    expect(versions?.at("2016-12-31T23:59:59Z")).toBeUndefined();
    expect(versions?.at("2017-01-01T00:00:00Z")?.value.name).toBe("PLAN1");
    expect(versions?.at("2017-01-31T23:59:59.999Z")?.value.name).toBe("PLAN1");
    expect(versions?.at(Date.UTC(2017, 1, 1))?.value.name).toBe("PLAN2");
    expect(versions?.at("2099-01-01")?.value.name).toBe("PLAN2");
    expect(versions?.at("2017-01-15")?.value).toMatchObject({
      memory_in_mb: 512,
      number_of_nodes: 3,
      storage_in_mb: 0,
    });
    expect(versions?.at("2017-01-15")?.value.components[0]?.formula.text).toBe("ceil($time_in_seconds/3600) * 0.01");
    expect(compiled.plans.get("unknown")).toBeUndefined();
  });

  it("indexes VAT and currency rates by time, also mid-month", () => {
    const compiled = compilePlans([], vat, currency);
    expect(compiled.vatRates.get("Standard")?.at("2011-01-03T23:59:59Z")?.valid_from).toBe("1970-01-01");
    expect(compiled.vatRates.get("Standard")?.at("2011-01-04")?.value.toFixed()).toBe("0.2");
    expect(compiled.vatRates.get("Zero")?.at("2020-01-01")?.value.toFixed()).toBe("0");
    expect(compiled.currencyRates.get("USD")?.at("2016-12-31")).toBeUndefined();
    expect(compiled.currencyRates.get("USD")?.at("2017-06-01")?.value.toFixed()).toBe("0.8");
  });

  it("names plan, component and bad token when a formula does not parse", () => {
    const components = [{ name: "compute", formula: "1+1;", currency_code: "GBP", vat_code: "Standard" }];
    expect(compileError([plan({ components })])).toBe(
      `pricing plan "app" (plan_guid ${APP}) component "compute": unexpected ";" at position 4`,
    );
  });

  it.each<[string, Partial<PricingPlan>, string]>([
    ["mid-month valid_from", { valid_from: "2017-01-15" }, 'valid_from "2017-01-15" must be the first day of a month'],
    ["impossible date", { valid_from: "2017-02-30" }, 'valid_from "2017-02-30" must be the first day'],
    ["timestamp valid_from", { valid_from: "2017-01-01T00:00:00Z" }, "must be the first day of a month"],
    ["empty name", { name: "" }, "name must not be empty"],
    ["negative size", { memory_in_mb: -1 }, "memory_in_mb must be a number ≥ 0 (got -1)"],
    [
      "unknown VAT code",
      { components: [{ name: "c", formula: "1", currency_code: "GBP", vat_code: "Super" }] },
      'component "c": unknown vat_code "Super"',
    ],
    [
      "VAT code without rates",
      { components: [{ name: "c", formula: "1", currency_code: "GBP", vat_code: "Reduced" }] },
      'component "c": no VAT rate for vat_code "Reduced"',
    ],
    [
      "unknown currency",
      { components: [{ name: "c", formula: "1", currency_code: "EUR", vat_code: "Standard" }] },
      'component "c": unknown currency_code "EUR"',
    ],
    [
      "currency rate starting after the plan",
      {
        valid_from: "2016-12-01",
        components: [{ name: "c", formula: "1", currency_code: "USD", vat_code: "Standard" }],
      },
      'component "c": no USD currency rate holds on 2016-12-01',
    ],
    [
      "duplicate component",
      {
        components: [
          { name: "c", formula: "1", currency_code: "GBP", vat_code: "Standard" },
          { name: "c", formula: "2", currency_code: "GBP", vat_code: "Standard" },
        ],
      },
      'component "c": the name is used twice',
    ],
  ])("rejects a plan with %s", (_, over, message) => {
    expect(compileError([plan(over)])).toContain(message);
  });

  it("rejects two versions of a plan from the same month", () => {
    expect(compileError([plan(), plan({ name: "again" })])).toBe(
      `pricing plan "again" (plan_guid ${APP}): valid_from 2017-01-01 is given twice`,
    );
  });

  it("rejects VAT rates before the plan's VAT code holds", () => {
    const late: VatRate[] = [{ code: "Standard", valid_from: "2018-01-01", rate: 0.2 }];
    expect(compileError([plan()], late)).toContain("no Standard VAT rate holds on 2017-01-01");
  });

  it.each<[string, VatRate[], CurrencyRate[], string]>([
    ["unknown VAT code", [{ code: "High", valid_from: "2017-01-01", rate: 0.3 }], currency, 'unknown code "High"'],
    ["negative VAT", [{ code: "Standard", valid_from: "2017-01-01", rate: -0.2 }], currency, "non-negative decimal"],
    ["zero currency rate", vat, [{ code: "GBP", valid_from: "2017-01-01", rate: 0 }], 'positive decimal (got "0")'],
    ["non-numeric rate", vat, [{ code: "GBP", valid_from: "2017-01-01", rate: "one" }], 'positive decimal (got "one")'],
    ["bad currency code", vat, [{ code: "pound", valid_from: "2017-01-01", rate: 1 }], 'unknown code "pound"'],
    ["bad date", vat, [{ code: "GBP", valid_from: "1/1/2017", rate: 1 }], "valid_from must be a date (YYYY-MM-DD)"],
    [
      "duplicate rate",
      vat,
      [
        { code: "GBP", valid_from: "2017-01-01", rate: 1 },
        { code: "GBP", valid_from: "2017-01-01", rate: 2 },
      ],
      "currency rate GBP valid_from 2017-01-01: given twice",
    ],
  ])("rejects rates with %s", (_, vatRates, currencyRates, message) => {
    expect(compileError([], vatRates, currencyRates)).toContain(message);
  });
});

describe("Timeline", () => {
  const timeline = new Timeline([
    { valid_from: "b", from: 20, value: "B" },
    { valid_from: "a", from: 10, value: "A" },
  ]);

  it("orders values and bounds each by the next", () => {
    expect(timeline.entries.map((e) => [e.value, e.from, e.until])).toEqual([
      ["A", 10, 20],
      ["B", 20, Number.POSITIVE_INFINITY],
    ]);
    expect(timeline.start).toBe(10);
    expect(new Timeline([]).start).toBe(Number.POSITIVE_INFINITY);
  });

  it("finds values overlapping a range and the changes inside it", () => {
    expect(timeline.overlapping(0, 10)).toEqual([]);
    expect(timeline.overlapping(15, 25).map((e) => e.value)).toEqual(["A", "B"]);
    expect(timeline.changesWithin(10, 30)).toEqual([20]);
    expect(timeline.changesWithin(20, 30)).toEqual([]);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Money, roundMinor } from "../../src/billing/decimal.js";
import { type CurrencyRate, compilePlans, type PricingPlan, type VatRate } from "../../src/billing/plans.js";
import {
  type BillableEvent,
  monthSlices,
  type PricingOptions,
  PricingError,
  priceIntervals,
  priceTotals,
  sumPrices,
  type UnpricedUsage,
} from "../../src/billing/pricing.js";
import type { UsageEvent } from "../../src/cloudfoundry/events.js";
import { APP_PLAN_GUID, buildIntervals, type UsageInterval } from "../../src/cloudfoundry/intervals.js";

const ORG = "51ba75ef-edc0-47ad-a633-a8f6e8770944";
const SPACE = "276f4886-ac40-492d-a8cd-b2646637ba76";
const APP1 = "c85e98f0-6d1b-4f45-9368-ea58263165a0";
const PLAN_A = "aaaaaaaa-0000-0000-0000-00000000000a";
const PLAN_B = "bbbbbbbb-0000-0000-0000-00000000000b";

// The public cases' defaults: VAT Standard 0.2 and GBP rate 1 from the epoch.
const VAT: VatRate[] = [
  { code: "Standard", valid_from: "1970-01-01", rate: 0.2 },
  { code: "Zero", valid_from: "1970-01-01", rate: 0 },
];
const CURRENCY: CurrencyRate[] = [{ code: "GBP", valid_from: "1970-01-01", rate: 1 }];

const component = (formula: string, over: Partial<PricingPlan["components"][number]> = {}) => ({
  name: "compute",
  formula,
  currency_code: "GBP",
  vat_code: "Standard",
  ...over,
});
const plan = (formula: string, over: Partial<PricingPlan> = {}): PricingPlan => ({
  name: "PLAN1",
  plan_guid: APP_PLAN_GUID,
  valid_from: "2001-01-01",
  components: [component(formula)],
  ...over,
});
const HOURLY = "ceil($time_in_seconds/3600) * 0.01";

const price = (
  intervals: UsageInterval[],
  plans: PricingPlan[],
  options: Partial<PricingOptions> = {},
  rates: { vat?: VatRate[]; currency?: CurrencyRate[] } = {},
) =>
  priceIntervals(intervals, compilePlans(plans, rates.vat ?? VAT, rates.currency ?? CURRENCY), {
    rangeStart: "2001-01-01",
    rangeStop: "2001-02-01",
    currency: "GBP",
    ...options,
  });

let seq = 0;
const appEvent = (created_at: string, state: string, instances = 1): UsageEvent => {
  seq++;
  return {
    guid: `event-${seq}`,
    kind: "app",
    created_at,
    seq,
    entity: {
      state,
      app_guid: APP1,
      app_name: "APP1",
      org_guid: ORG,
      space_guid: SPACE,
      space_name: "ORG1-SPACE1",
      process_type: "web",
      instance_count: instances,
      memory_in_mb_per_instance: 1024,
    },
  };
};
const serviceEvent = (created_at: string, state: string, plan_guid: string): UsageEvent => {
  seq++;
  return {
    guid: `event-${seq}`,
    kind: "service",
    created_at,
    seq,
    entity: {
      state,
      org_guid: ORG,
      space_guid: SPACE,
      space_name: "ORG1-SPACE1",
      service_instance_guid: "db-1",
      service_instance_name: "DB1",
      service_instance_type: "managed_service_instance",
      service_plan_guid: plan_guid,
      service_plan_name: plan_guid === PLAN_A ? "small" : "large",
    },
  };
};
const interval = (start: string, stop: string, over: Partial<UsageInterval> = {}): UsageInterval => ({
  event_guid: "event-guid",
  resource_guid: APP1,
  resource_name: "APP1",
  resource_type: "app",
  org_guid: ORG,
  org_name: ORG,
  space_guid: SPACE,
  space_name: "ORG1-SPACE1",
  plan_guid: APP_PLAN_GUID,
  plan_name: "app",
  number_of_nodes: 1,
  memory_in_mb: 1024,
  storage_in_mb: 0,
  start,
  stop,
  ...over,
});
const amounts = (events: BillableEvent[]) => events.map((e) => [e.price.ex_vat, e.price.inc_vat]);
const detailRows = (event: BillableEvent | undefined) =>
  event?.price.details.map((d) => [d.plan_name, d.start.slice(0, 10), d.stop.slice(0, 10), d.ex_vat, d.inc_vat]);

describe("priceIntervals: public cases", () => {
  it("case 1: one hour under ceil(hours) × 0.01 costs 0.01, 0.012 with VAT", () => {
    const start = appEvent("2001-01-01T00:00Z", "STARTED");
    const intervals = buildIntervals([start, appEvent("2001-01-01T01:00Z", "STOPPED")], { now: "2001-02-01T00:00Z" });
    expect(price(intervals, [plan(HOURLY)])).toEqual([
      {
        event_guid: start.guid,
        event_start: "2001-01-01T00:00:00.000Z",
        event_stop: "2001-01-01T01:00:00.000Z",
        resource_guid: APP1,
        resource_name: "APP1",
        resource_type: "app",
        org_guid: ORG,
        org_name: ORG,
        space_guid: SPACE,
        space_name: "ORG1-SPACE1",
        plan_guid: APP_PLAN_GUID,
        plan_name: "app",
        number_of_nodes: 1,
        memory_in_mb: 1024,
        storage_in_mb: 0,
        price: {
          inc_vat: "0.012",
          ex_vat: "0.01",
          details: [
            {
              name: "compute",
              start: "2001-01-01T00:00:00.000Z",
              stop: "2001-01-01T01:00:00.000Z",
              plan_name: "PLAN1",
              ex_vat: "0.01",
              inc_vat: "0.012",
              vat_rate: "0.2",
              vat_code: "Standard",
              currency_code: "GBP",
              currency_rate: "1",
            },
          ],
        },
      },
    ]);
  });

  it("case 2: a scale splits the bill into two events of 0.01 / 0.012", () => {
    const events = [
      appEvent("2001-01-01T00:00Z", "STARTED", 1),
      appEvent("2001-01-01T01:00Z", "STARTED", 2),
      appEvent("2001-01-01T02:00Z", "STOPPED", 2),
    ];
    const billed = price(buildIntervals(events, { now: "2001-02-01T00:00Z" }), [plan(HOURLY)]);
    expect(billed.map((e) => [e.event_start.slice(11, 16), e.event_stop.slice(11, 16), e.number_of_nodes])).toEqual([
      ["00:00", "01:00", 1],
      ["01:00", "02:00", 2],
    ]);
    expect(amounts(billed)).toEqual([
      ["0.01", "0.012"],
      ["0.01", "0.012"],
    ]);
  });

  it("case 3: a plan version change mid-interval prices each month with its version", () => {
    const plans = [
      plan("1", { valid_from: "2017-01-01", name: "PLAN1" }),
      plan("33", { valid_from: "2017-02-01", name: "PLAN2" }),
    ];
    const [event, ...rest] = price([interval("2017-01-01T00:00:00Z", "2017-03-01T00:00:00Z")], plans, {
      rangeStart: "2017-01-01",
      rangeStop: "2017-03-01",
    });
    expect(rest).toEqual([]);
    expect([event?.price.ex_vat, event?.price.inc_vat]).toEqual(["34", "40.8"]);
    expect([event?.event_start, event?.event_stop]).toEqual(["2017-01-01T00:00:00.000Z", "2017-03-01T00:00:00.000Z"]);
    expect(detailRows(event)).toEqual([
      ["PLAN1", "2017-01-01", "2017-02-01", "1", "1.2"],
      ["PLAN2", "2017-02-01", "2017-03-01", "33", "39.6"],
    ]);
  });

  it("case 4: a service plan change A → B is priced on each plan", () => {
    const events = [
      serviceEvent("2001-01-01T00:00Z", "CREATED", PLAN_A),
      serviceEvent("2001-01-01T01:00Z", "UPDATED", PLAN_B),
      serviceEvent("2001-01-01T02:00Z", "DELETED", PLAN_B),
    ];
    const plans = [
      plan("ceil($time_in_seconds/3600) * 0.5", { plan_guid: PLAN_A, name: "small plan" }),
      plan("ceil($time_in_seconds/3600) * 2", { plan_guid: PLAN_B, name: "large plan" }),
    ];
    const billed = price(buildIntervals(events, { now: "2001-02-01T00:00Z" }), plans);
    expect(
      billed.map((e) => [e.plan_guid, e.plan_name, e.event_start.slice(11, 16), e.event_stop.slice(11, 16)]),
    ).toEqual([
      [PLAN_A, "small", "00:00", "01:00"],
      [PLAN_B, "large", "01:00", "02:00"],
    ]);
    expect(amounts(billed)).toEqual([
      ["0.5", "0.6"],
      ["2", "2.4"],
    ]);
  });

  it("case 5: formulas see memory, storage, nodes and seconds of the piece", () => {
    const formulas = ["$time_in_seconds / 3600 * 2", "ceil($time_in_seconds / 3600) * 10", "2^2"];
    const plans = [plan("", { components: formulas.map((f, i) => component(f, { name: `c${i}` })) })];
    const [event] = price([interval("2001-01-01T00:00:00Z", "2001-01-01T00:01:00Z", { number_of_nodes: 2 })], plans);
    const [slow, ceiled, squared] = event?.price.details ?? [];
    expect(new Money(slow?.ex_vat ?? "").toDecimalPlaces(20).toFixed()).toBe("0.03333333333333333333");
    expect([ceiled?.ex_vat, squared?.ex_vat]).toEqual(["10", "4"]);
    expect(() => compilePlans([plan("1+1;")], VAT, CURRENCY)).toThrow('unexpected ";" at position 4');
  });

  it("case 6: 2001-01-15 → 2001-04-15 splits into four month slices", () => {
    expect(monthSlices("2001-01-15", "2001-04-15")).toEqual([
      { start: "2001-01-15T00:00:00.000Z", stop: "2001-02-01T00:00:00.000Z" },
      { start: "2001-02-01T00:00:00.000Z", stop: "2001-03-01T00:00:00.000Z" },
      { start: "2001-03-01T00:00:00.000Z", stop: "2001-04-01T00:00:00.000Z" },
      { start: "2001-04-01T00:00:00.000Z", stop: "2001-04-15T00:00:00.000Z" },
    ]);
    // Priced: one unit a day over a range clipping a longer interval.
    const [event] = price(
      [interval("2000-12-01T00:00:00Z", "2001-06-01T00:00:00Z")],
      [plan("$time_in_seconds / 86400", { valid_from: "2000-01-01" })],
      {
        rangeStart: "2001-01-15",
        rangeStop: "2001-04-15",
      },
    );
    expect(detailRows(event)).toEqual([
      ["PLAN1", "2001-01-15", "2001-02-01", "17", "20.4"],
      ["PLAN1", "2001-02-01", "2001-03-01", "28", "33.6"],
      ["PLAN1", "2001-03-01", "2001-04-01", "31", "37.2"],
      ["PLAN1", "2001-04-01", "2001-04-15", "14", "16.8"],
    ]);
    expect([event?.event_start, event?.event_stop]).toEqual(["2001-01-15T00:00:00.000Z", "2001-04-15T00:00:00.000Z"]);
    expect(monthSlices("2001-01-15", "2001-01-15")).toEqual([]);
  });
});

describe("priceIntervals: rates", () => {
  it("converts a USD component into GBP at the USD rate", () => {
    const currency: CurrencyRate[] = [...CURRENCY, { code: "USD", valid_from: "2000-01-01", rate: "0.8" }];
    const plans = [plan("", { components: [component("10", { currency_code: "USD" })] })];
    const [event] = price([interval("2001-01-01T00:00:00Z", "2001-01-01T01:00:00Z")], plans, {}, { currency });
    expect(event?.price).toMatchObject({ ex_vat: "8", inc_vat: "9.6" });
    expect(event?.price.details[0]).toMatchObject({ currency_code: "USD", currency_rate: "0.8" });
    // The same card billed in USD: a GBP component costs 1 / 0.8 = 1.25 USD per pound.
    const gbp = price(
      [interval("2001-01-01T00:00:00Z", "2001-01-01T01:00:00Z")],
      [plan("10")],
      { currency: "USD" },
      { currency },
    );
    expect(gbp[0]?.price).toMatchObject({ ex_vat: "12.5", inc_vat: "15" });
    expect(gbp[0]?.price.details[0]).toMatchObject({ currency_code: "GBP", currency_rate: "1.25" });
  });

  it("splits at a currency rate change", () => {
    const currency: CurrencyRate[] = [
      ...CURRENCY,
      { code: "USD", valid_from: "2000-01-01", rate: 0.8 },
      { code: "USD", valid_from: "2001-01-10", rate: 0.75 },
    ];
    const plans = [plan("", { components: [component("1", { currency_code: "USD" })] })];
    const [event] = price([interval("2001-01-09T00:00:00Z", "2001-01-11T00:00:00Z")], plans, {}, { currency });
    expect(event?.price.details.map((d) => [d.start.slice(0, 10), d.currency_rate, d.ex_vat])).toEqual([
      ["2001-01-09", "0.8", "0.8"],
      ["2001-01-10", "0.75", "0.75"],
    ]);
  });

  it("applies a VAT change mid-month from its day on", () => {
    const vat: VatRate[] = [
      { code: "Standard", valid_from: "2010-01-01", rate: 0.175 },
      { code: "Standard", valid_from: "2011-01-04", rate: 0.2 },
    ];
    const [event] = price(
      [interval("2011-01-01T00:00:00Z", "2011-01-06T00:00:00Z")],
      [plan("$time_in_seconds / 86400", { valid_from: "2010-01-01" })],
      { rangeStart: "2011-01-01", rangeStop: "2011-02-01" },
      { vat },
    );
    expect(
      event?.price.details.map((d) => [d.start.slice(0, 10), d.stop.slice(0, 10), d.vat_rate, d.ex_vat, d.inc_vat]),
    ).toEqual([
      ["2011-01-01", "2011-01-04", "0.175", "3", "3.525"],
      ["2011-01-04", "2011-01-06", "0.2", "2", "2.4"],
    ]);
    expect([event?.price.ex_vat, event?.price.inc_vat]).toEqual(["5", "5.925"]);
  });

  it("orders the details of several components by time", () => {
    const plans = [plan("", { components: [component("1"), component("2", { name: "storage", vat_code: "Zero" })] })];
    const [event] = price([interval("2001-01-31T00:00:00Z", "2001-02-02T00:00:00Z")], plans, {
      rangeStop: "2001-03-01",
    });
    expect(event?.price.details.map((d) => [d.name, d.start.slice(0, 10), d.inc_vat])).toEqual([
      ["compute", "2001-01-31", "1.2"],
      ["storage", "2001-01-31", "2"],
      ["compute", "2001-02-01", "1.2"],
      ["storage", "2001-02-01", "2"],
    ]);
    expect(event?.price).toMatchObject({ ex_vat: "6", inc_vat: "6.4" });
  });
});

describe("priceIntervals: ceil scope", () => {
  const crossing = interval("2001-01-31T23:30:00Z", "2001-02-01T00:30:00Z");
  const range = { rangeStart: "2001-01-01", rangeStop: "2001-03-01" };

  it("slice (default, paas-billing) rounds up in each month: 2 hours", () => {
    const [event] = price([crossing], [plan(HOURLY)], range);
    expect(event?.price.ex_vat).toBe("0.02");
    expect(event?.price.details.map((d) => d.ex_vat)).toEqual(["0.01", "0.01"]);
  });

  it("interval rounds up over the whole interval: 1 hour, charged where it accrues", () => {
    const [event] = price([crossing], [plan(HOURLY)], { ...range, ceilScope: "interval" });
    expect(event?.price).toMatchObject({ ex_vat: "0.01", inc_vat: "0.012" });
    expect(event?.price.details.map((d) => [d.start.slice(0, 10), d.ex_vat])).toEqual([
      ["2001-01-31", "0.01"],
      ["2001-02-01", "0"],
    ]);
  });

  it("interval gives the same month amounts whether months are priced apart or together", () => {
    const long = interval("2001-01-31T23:30:00Z", "2001-02-01T02:10:00Z");
    const scope = { ceilScope: "interval" as const };
    const together = price([long], [plan(HOURLY)], { ...range, ...scope });
    const january = price([long], [plan(HOURLY)], { ...scope, rangeStart: "2001-01-01", rangeStop: "2001-02-01" });
    const february = price([long], [plan(HOURLY)], { ...scope, rangeStart: "2001-02-01", rangeStop: "2001-03-01" });
    expect(amounts(january)).toEqual([["0.01", "0.012"]]);
    expect(amounts(february)).toEqual([["0.02", "0.024"]]);
    expect(sumPrices([...january, ...february])).toEqual(sumPrices(together));
    expect(together[0]?.price.ex_vat).toBe("0.03");
  });

  it("interval keeps a closed month fixed while the interval still runs", () => {
    const january = (stop: string) =>
      price([interval("2001-01-31T23:30:00Z", stop)], [plan(HOURLY)], { ...range, ceilScope: "interval" })[0]?.price
        .details[0]?.ex_vat;
    expect(january("2001-02-01T00:10:00Z")).toBe("0.01");
    expect(january("2001-02-20T07:45:00Z")).toBe("0.01");
  });

  it("interval starts over with each plan version", () => {
    const plans = [
      plan(HOURLY, { valid_from: "2001-01-01" }),
      plan("ceil($time_in_seconds/3600) * 1", { valid_from: "2001-02-01", name: "PLAN2" }),
    ];
    const [event] = price([interval("2001-01-31T23:30:00Z", "2001-02-01T00:30:00Z")], plans, {
      ...range,
      ceilScope: "interval",
    });
    expect(detailRows(event)).toEqual([
      ["PLAN1", "2001-01-31", "2001-02-01", "0.01", "0.012"],
      ["PLAN2", "2001-02-01", "2001-02-01", "1", "1.2"],
    ]);
  });
});

describe("priceIntervals: sizes, ranges and gaps", () => {
  it("takes sizes the interval lacks from the plan, and the interval's own otherwise", () => {
    const formula = "$memory_in_mb / 1024 * $number_of_nodes + $storage_in_mb / 1024";
    const plans = [plan(formula, { memory_in_mb: 2048, storage_in_mb: 10240, number_of_nodes: 3 })];
    const service = interval("2001-01-01T00:00:00Z", "2001-01-01T01:00:00Z", {
      resource_type: "service",
      number_of_nodes: null,
      memory_in_mb: null,
      storage_in_mb: null,
    });
    const [fromPlan, fromInterval] = price([service, interval("2001-01-01T00:00:00Z", "2001-01-01T01:00:00Z")], plans);
    expect(fromPlan).toMatchObject({ number_of_nodes: 3, memory_in_mb: 2048, storage_in_mb: 10240 });
    expect(fromPlan?.price.ex_vat).toBe("16");
    expect(fromInterval).toMatchObject({ number_of_nodes: 1, memory_in_mb: 1024, storage_in_mb: 0 });
    expect(fromInterval?.price.ex_vat).toBe("1");
  });

  it("leaves out intervals outside the range and clips the others", () => {
    const billed = price(
      [
        interval("2000-12-31T00:00:00Z", "2001-01-01T00:00:00Z"),
        interval("2000-12-31T23:00:00Z", "2001-01-01T02:00:00Z"),
        interval("2001-02-01T00:00:00Z", "2001-02-02T00:00:00Z"),
      ],
      [plan(HOURLY, { valid_from: "2000-01-01" })],
    );
    expect(billed.map((e) => [e.event_start, e.event_stop, e.price.ex_vat])).toEqual([
      ["2001-01-01T00:00:00.000Z", "2001-01-01T02:00:00.000Z", "0.02"],
    ]);
  });

  it("refuses usage no plan covers unless told where to report it", () => {
    const early = interval("2000-12-31T00:00:00Z", "2001-01-01T05:00:00Z");
    const unknown = interval("2001-01-02T00:00:00Z", "2001-01-02T01:00:00Z", { plan_guid: PLAN_B, plan_name: "large" });
    const plans = [plan(HOURLY)];
    expect(() => price([early], plans, { rangeStart: "2000-12-01" })).toThrow(
      new PricingError(
        `no pricing plan ${APP_PLAN_GUID} (app) for app ${APP1} from 2000-12-31T00:00:00.000Z to 2001-01-01T00:00:00.000Z`,
      ),
    );
    const unpriced: UnpricedUsage[] = [];
    const billed = price([early, unknown], plans, { rangeStart: "2000-12-01", onUnpriced: (u) => unpriced.push(u) });
    expect(unpriced.map((u) => [u.interval.plan_guid, u.start, u.stop])).toEqual([
      [APP_PLAN_GUID, "2000-12-31T00:00:00.000Z", "2001-01-01T00:00:00.000Z"],
      [PLAN_B, "2001-01-02T00:00:00.000Z", "2001-01-02T01:00:00.000Z"],
    ]);
    expect(billed.map((e) => [e.event_start, e.price.ex_vat])).toEqual([["2001-01-01T00:00:00.000Z", "0.05"]]);
  });

  it("names plan, component and resource when a formula fails on a piece", () => {
    const plans = [plan("1 / ($number_of_nodes - 1)")];
    expect(() => price([interval("2001-01-01T00:00:00Z", "2001-01-01T01:00:00Z")], plans)).toThrow(
      `pricing plan "PLAN1" (plan_guid ${APP_PLAN_GUID}) component "compute" for app ${APP1}: division by zero at position 3`,
    );
  });

  it.each<[string, Partial<PricingOptions>, string]>([
    ["an empty range", { rangeStop: "2001-01-01" }, "the range 2001-01-01 → 2001-01-01 is empty"],
    ["a bad date", { rangeStart: "January" }, 'rangeStart "January" is not a date or timestamp'],
    ["an unknown output currency", { currency: "EUR" }, 'no currency rates for the output currency "EUR"'],
    ["an output currency without a rate yet", { rangeStart: "1969-12-01" }, "no GBP currency rate holds on 1969-12-01"],
  ])("rejects %s", (_, options, message) => {
    expect(() => price([], [plan(HOURLY)], options)).toThrow(message);
  });
});

describe("sumPrices", () => {
  it("adds exactly, leaving rounding to the bill", () => {
    const plans = [plan("$time_in_seconds / 3600 * 2")];
    const thirds = price(
      ["00", "01", "02"].map((h) =>
        interval(`2001-01-01T${h}:00:00Z`, `2001-01-01T${h}:01:00Z`, { event_guid: `e${h}` }),
      ),
      plans,
    );
    const total = sumPrices(thirds);
    expect(new Money(total.ex_vat).toDecimalPlaces(30).toFixed()).toBe("0.1");
    expect(roundMinor(new Money(total.inc_vat))).toBe("0.12");
    expect(sumPrices([])).toEqual({ ex_vat: "0", inc_vat: "0" });
  });
});

describe("priceTotals", () => {
  // Two plan versions, a USD component, a VAT change and a USD rate change inside the range: every kind of cut.
  const plans: PricingPlan[] = [
    plan("$number_of_nodes * $time_in_seconds * ($memory_in_mb / 1024) * 0.01 / 3600", {
      components: [
        component("$number_of_nodes * $time_in_seconds * ($memory_in_mb / 1024) * 0.01 / 3600"),
        component("ceil($time_in_seconds / 3600) * 0.004", { name: "platform", currency_code: "USD" }),
      ],
    }),
    plan(HOURLY, { name: "PLAN2", valid_from: "2001-02-01" }),
  ];
  const vat: VatRate[] = [...VAT, { code: "Standard", valid_from: "2001-01-20", rate: 0.175 }];
  const currency: CurrencyRate[] = [
    ...CURRENCY,
    { code: "USD", valid_from: "1970-01-01", rate: 0.8 },
    { code: "USD", valid_from: "2001-02-15", rate: "0.79" },
  ];
  const compiled = compilePlans(plans, vat, currency);
  const base = Date.UTC(2000, 11, 20);

  it("gives each interval the totals and first plan name priceIntervals gives it", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            start: fc.integer({ min: 0, max: 100 * 86_400 }),
            length: fc.integer({ min: 1, max: 40 * 86_400 }),
            memory: fc.constantFrom(64, 128, 1024, 3000),
            nodes: fc.integer({ min: 1, max: 4 }),
          }),
          { maxLength: 20 },
        ),
        fc.constantFrom<"slice" | "interval">("slice", "interval"),
        (specs, ceilScope) => {
          const intervals = specs.map((x, i) =>
            interval(
              new Date(base + x.start * 1000).toISOString(),
              new Date(base + (x.start + x.length) * 1000).toISOString(),
              {
                event_guid: `e${i}`,
                memory_in_mb: x.memory,
                number_of_nodes: x.nodes,
              },
            ),
          );
          const options = {
            rangeStart: "2001-01-01",
            rangeStop: "2001-03-01",
            currency: "GBP",
            ceilScope,
            onUnpriced: () => undefined,
          };
          const events = priceIntervals(intervals, compiled, options);
          const totals = priceTotals(intervals, compiled, options);
          expect(
            totals.map((t) => [t.interval.event_guid, t.plan_name, t.ex_vat.toFixed(), t.inc_vat.toFixed()]),
          ).toEqual(events.map((e) => [e.event_guid, e.price.details[0]?.plan_name, e.price.ex_vat, e.price.inc_vat]));
        },
      ),
      { numRuns: 200 },
    );
  });
});

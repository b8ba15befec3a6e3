import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, createContext } from "../../src/app/context.js";
import { startServer } from "../../src/app/server.js";
import { createToken } from "../../src/auth/tokens.js";
import { Money } from "../../src/billing/decimal.js";
import {
  type Bill,
  type BillingDeps,
  billableEvents,
  monthlyBill,
  monthRange,
} from "../../src/cloudfoundry/billing.js";
import { APP_PLAN_GUID } from "../../src/cloudfoundry/intervals.js";
import { syncOnce } from "../../src/cloudfoundry/sync.js";
import { loadSettings } from "../../src/config/load.js";
import type { Settings } from "../../src/config/schema.js";
import {
  type CloudFoundrySim,
  SIM_DEFAULTS,
  type SimAppEventInput,
  type SimServiceEventInput,
  startCloudFoundrySim,
} from "../../src/sim/cloudfoundry.js";
import { formatDecimal } from "../../src/web/components.js";

const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const ORG_A = "a1f0c3e2-5b7d-4c1a-9e0f-00000000000a";
const ORG_B = "b2e1d4f3-6c8e-4d2b-8f1a-00000000000b";
const DB_SMALL = "5e1a0000-0000-4000-8000-0000000000aa";
const DB_LARGE = "5e1b0000-0000-4000-8000-0000000000bb";

// App names come from Cloud Foundry's users; this one would run script if a page forgot to escape it.
const HOSTILE_NAME = `worker <img src=x onerror="document.title='pwned'">`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.now();
const CURRENT = new Date(NOW).toISOString().slice(0, 7);
const CURRENT_START = Date.parse(monthRange(CURRENT).start);
const PREVIOUS = new Date(CURRENT_START - 1).toISOString().slice(0, 7);
const PREVIOUS_START = Date.parse(monthRange(PREVIOUS).start);
const at = (ms: number) => new Date(ms).toISOString();
const monthName = (month: string) =>
  new Date(`${month}-01T00:00:00Z`).toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });

const text = (locator: Locator) => locator.innerText();

const SPACES = {
  aProd: { org_guid: ORG_A, space_guid: "5a000000-0000-4000-8000-00000000a001", space_name: "prod" },
  aStaging: { org_guid: ORG_A, space_guid: "5a000000-0000-4000-8000-00000000a002", space_name: "staging" },
  bProd: { org_guid: ORG_B, space_guid: "5b000000-0000-4000-8000-00000000b001", space_name: "prod" },
};

function app(
  space: (typeof SPACES)[keyof typeof SPACES],
  guid: string,
  state: "STARTED" | "STOPPED",
  when: number,
  instances: number,
  memory: number,
  name = guid.replace(/^app-/, ""),
): SimAppEventInput {
  return {
    ...space,
    state,
    app_guid: guid,
    app_name: name,
    instance_count: instances,
    memory_in_mb_per_instance: memory,
    created_at: at(when),
  };
}

function service(state: "CREATED" | "UPDATED" | "DELETED", when: number, plan: string, planName: string) {
  return {
    ...SPACES.aProd,
    state,
    service_instance_guid: "svc-orders-db",
    service_instance_name: "orders-db",
    service_plan_guid: plan,
    service_plan_name: planName,
    created_at: at(when),
  } satisfies SimServiceEventInput;
}

const byTime = <T extends { created_at?: string }>(events: T[]) =>
  [...events].sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));

/**
 * Last month: org A's web app scales from 2 to 4 instances, its worker runs two days in another space, and its
 * database moves from the small plan to the large one; org B's api starts mid-month. Both orgs have apps running now,
 * B's scaled up to 3 instances, so the running month has usage and a forecast. The running month's events stay in it
 * even when the test runs in its first hours.
 */
const thisMonth = (ms: number) => Math.max(ms, CURRENT_START);
const APP_EVENTS = byTime([
  app(SPACES.aProd, "app-web", "STARTED", PREVIOUS_START + 1 * DAY, 2, 256),
  app(SPACES.aProd, "app-web", "STARTED", PREVIOUS_START + 3 * DAY, 4, 256),
  app(SPACES.aProd, "app-web", "STOPPED", PREVIOUS_START + 5 * DAY, 4, 256),
  app(SPACES.aStaging, "app-worker", "STARTED", PREVIOUS_START + 10 * DAY, 1, 128, HOSTILE_NAME),
  app(SPACES.aStaging, "app-worker", "STOPPED", PREVIOUS_START + 12 * DAY, 1, 128, HOSTILE_NAME),
  app(SPACES.bProd, "app-api", "STARTED", PREVIOUS_START + 15 * DAY, 1, 512),
  app(SPACES.bProd, "app-api", "STARTED", thisMonth(NOW - 2 * HOUR), 3, 512),
  app(SPACES.aProd, "app-web", "STARTED", thisMonth(NOW - HOUR), 2, 256),
]);
const SERVICE_EVENTS = byTime([
  service("CREATED", PREVIOUS_START + 2 * DAY, DB_SMALL, "small"),
  service("UPDATED", PREVIOUS_START + 4 * DAY, DB_LARGE, "large"),
  service("DELETED", PREVIOUS_START + 6 * DAY, DB_LARGE, "large"),
]);
/** Reported after last month's bill was seen: a batch job of org A that ran five hours. */
const LATE_EVENTS = [
  app(SPACES.aProd, "app-batch", "STARTED", PREVIOUS_START + 20 * DAY, 2, 1024),
  app(SPACES.aProd, "app-batch", "STOPPED", PREVIOUS_START + 20 * DAY + 5 * HOUR, 2, 1024),
];

const component = (name: string, formula: string) => ({ name, formula, currency_code: "GBP", vat_code: "Standard" });

function configure(settings: Settings, sim: CloudFoundrySim): void {
  settings.cloudfoundry.foundations = [
    {
      name: "sim",
      api: sim.url,
      ...SIM_DEFAULTS.client,
      skip_tls_verification: false,
      user_agent: "fleetledger-browser-test",
      api_version: "v3",
      schedule: "1m",
      min_wait_time: "3s",
      fetch_limit: 50,
      // The running month's events may be only minutes old.
      record_min_age: "0s",
    },
  ];
  settings.billing.currency = "GBP";
  settings.billing.vat_rates = [{ code: "Standard", valid_from: "1970-01-01", rate: "0.2" }];
  settings.billing.currency_rates = [{ code: "GBP", valid_from: "1970-01-01", rate: "1" }];
  settings.billing.pricing_plans = [
    {
      name: "app",
      plan_guid: APP_PLAN_GUID,
      valid_from: "1970-01-01",
      components: [
        component("compute", "$number_of_nodes * $memory_in_mb / 1024 * ceil($time_in_seconds/3600) * 0.01"),
      ],
    },
    {
      name: "db-small",
      plan_guid: DB_SMALL,
      valid_from: "1970-01-01",
      number_of_nodes: 1,
      memory_in_mb: 1024,
      components: [component("instance", "ceil($time_in_seconds/3600) * 0.05")],
    },
    {
      name: "db-large",
      plan_guid: DB_LARGE,
      valid_from: "1970-01-01",
      number_of_nodes: 2,
      memory_in_mb: 4096,
      components: [
        component("instance", "$number_of_nodes * ceil($time_in_seconds/3600) * 0.2"),
        component("storage", "ceil($time_in_seconds/3600) * 0.01"),
      ],
    },
  ];
}

async function launchChromium(): Promise<Browser> {
  // No skipping: pages that were never rendered in a browser are not tested.
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

interface LineSpec {
  x: number[];
  series: { label: string; y: (number | null)[] }[];
}

const chartSpec = async (locator: Locator): Promise<LineSpec> =>
  JSON.parse((await locator.getAttribute("data-lines")) ?? "null") as LineSpec;

describe("Cloud Foundry billing pages in a real browser", () => {
  const tmps: string[] = [];
  const apps: FastifyInstance[] = [];
  let sim: CloudFoundrySim;
  let ctx: AppContext;
  let deps: BillingDeps;
  let base: string;
  let browser: Browser;
  let page: Page;
  let adminToken: string;
  /** Last month's bill as the dashboard first showed it, before the late events. */
  let firstPrevious: Bill;
  const browserProblems: string[] = [];
  const failedResponses: string[] = [];

  const shot = (name: string, target = page) =>
    target.screenshot({ path: join(ARTIFACTS, `billing-${name}.png`), fullPage: true });

  function watch(target: Page): void {
    target.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        browserProblems.push(`console: ${message.text()}`);
      }
    });
    target.on("response", (response) => {
      if (response.status() >= 400) failedResponses.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    target.on("pageerror", (err) => browserProblems.push(`page error: ${err.message}`));
  }

  async function serve(configureSettings: (settings: Settings) => void) {
    const tmp = mkdtempSync(join(tmpdir(), "fleetledger-billing-web-"));
    tmps.push(tmp);
    const settings = loadSettings({ dataDir: tmp, env: {}, cwd: tmp });
    settings.server.port = 0;
    settings.log.level = "silent";
    // No schedules: the test collects with syncOnce, at the moments it chooses.
    settings.server.worker = false;
    configureSettings(settings);
    const context = await createContext(settings);
    const started = await startServer(context, 0, "127.0.0.1");
    apps.push(started.app);
    return { ctx: context, base: started.address };
  }

  async function logIn(target: Page, address: string, token: string, path: string): Promise<void> {
    await target.goto(`${address}${path}`);
    expect(new URL(target.url()).pathname).toBe("/login");
    await target.fill("#token", token);
    await Promise.all([target.waitForURL(`${address}${path}`), target.click("button[type=submit]")]);
  }

  const orgRow = (org: string) => page.locator("table.bill-orgs tbody tr", { hasText: org });
  const numbers = async (row: Locator) => row.locator("td.num").allInnerTexts();

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sim = await startCloudFoundrySim();
    sim.addAppEvents(APP_EVENTS);
    sim.addServiceEvents(SERVICE_EVENTS);
    ({ ctx, base } = await serve((s) => configure(s, sim)));
    deps = { db: ctx.database.db, settings: ctx.settings, plans: ctx.plans };
    const outcomes = await syncOnce(ctx);
    expect(outcomes.map((o) => o.stored)).toEqual([APP_EVENTS.length, SERVICE_EVENTS.length]);
    adminToken = await createToken(ctx.database.db, "ci-admin", "admin");

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    watch(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const app of apps) await app.close();
    await sim?.stop();
    for (const tmp of tmps) rmSync(tmp, { recursive: true, force: true });
  });

  it("asks for a login, then shows the running month: totals so far, forecast, organizations and the trend", async () => {
    await logIn(page, base, adminToken, "/billing");
    // Computed right after the page: the running month's usage grows by the hour.
    const bill = await monthlyBill(deps, CURRENT, undefined);
    const previous = await monthlyBill(deps, PREVIOUS, undefined);
    expect(await text(page.locator(".nav a.active"))).toBe("Billing");
    expect(await page.locator("input[type=month]").inputValue()).toBe(CURRENT);
    expect(await text(page.locator(".stats .badge"))).toBe("open");
    expect(bill.status).toBe("open");
    expect(bill.orgs.map((o) => o.org_guid).sort()).toEqual([ORG_A, ORG_B]);

    const stats = await text(page.locator(".stats"));
    expect(stats).toContain(`${formatDecimal(bill.totals.inc_vat)}\nInc VAT so far (GBP)`);
    expect(stats).toContain(`${formatDecimal(bill.forecast?.inc_vat ?? "")}\nForecast to month end, inc VAT`);
    expect(Number(bill.forecast?.inc_vat)).toBeGreaterThan(Number(bill.totals.inc_vat));

    for (const org of bill.orgs) {
      const row = orgRow(org.org_guid);
      expect(await numbers(row)).toEqual(["1", formatDecimal(org.ex_vat), formatDecimal(org.inc_vat)]);
      expect(await row.locator("td.num").last().getAttribute("title")).toBe(org.inc_vat);
    }
    const footer = page.locator("table.bill-orgs tfoot");
    expect(await numbers(footer)).toEqual(["2", formatDecimal(bill.totals.ex_vat), formatDecimal(bill.totals.inc_vat)]);

    // The trend: twelve months, the last two of them the months' bills.
    expect(await page.locator(".chart.lines canvas").count()).toBe(1);
    const trend = await chartSpec(page.locator(".chart.lines"));
    expect(trend.x).toHaveLength(12);
    expect(trend.x.at(-1)).toBe(Date.parse(monthRange(CURRENT).start) / 1000);
    for (const org of [ORG_A, ORG_B]) {
      const y = trend.series.find((s) => s.label === org)?.y ?? [];
      expect(y.at(-1)).toBe(Number(bill.orgs.find((o) => o.org_guid === org)?.inc_vat));
      expect(y.at(-2)).toBe(Number(previous.orgs.find((o) => o.org_guid === org)?.inc_vat));
      expect(y.slice(0, 10)).toEqual(Array(10).fill(0));
    }
    expect(await text(page.locator(".u-legend"))).toContain(ORG_A);
    await shot("overview");

    // B's api still runs: its interval of this month has no stop yet.
    await page.goto(`${base}/billing/orgs/${ORG_B}?month=${CURRENT}`);
    const api = page.locator("table.cf-resources tbody tr").last();
    expect(await text(api.locator("td").nth(4))).toBe("3");
    expect(await text(api.locator(".badge.cf-running"))).toBe("running");
    expect(await page.locator(".month-bar a[rel=next]").count()).toBe(0);
    await page.goto(`${base}/billing`);
  });

  it("steps back to the closed month with its revisions and a CSV of every organization", async () => {
    await Promise.all([page.waitForURL(`${base}/billing?month=${PREVIOUS}`), page.click(".month-bar a[rel=prev]")]);
    firstPrevious = await monthlyBill(deps, PREVIOUS, undefined);
    expect(await text(page.locator(".stats .badge"))).toBe("closed");
    expect(await text(page.locator("h2"))).toContain(monthName(PREVIOUS));
    const a = firstPrevious.orgs.find((o) => o.org_guid === ORG_A);
    const b = firstPrevious.orgs.find((o) => o.org_guid === ORG_B);
    expect(a?.spaces.map((s) => s.space_name)).toEqual(["prod", "staging"]);
    expect(await numbers(orgRow(ORG_A))).toEqual([
      "2",
      formatDecimal(a?.ex_vat ?? ""),
      formatDecimal(a?.inc_vat ?? ""),
    ]);
    expect(await numbers(orgRow(ORG_B))).toEqual([
      "1",
      formatDecimal(b?.ex_vat ?? ""),
      formatDecimal(b?.inc_vat ?? ""),
    ]);
    expect(await text(orgRow(ORG_A))).toContain("revision 1");
    expect(await text(page.locator("table.bill-orgs tfoot"))).toContain(formatDecimal(firstPrevious.totals.inc_vat));
    expect(await page.locator(".chart.lines canvas").count()).toBe(1);
    // The next month is the running one, and nothing lies beyond it.
    expect(await page.locator(".month-bar a[rel=next]").getAttribute("href")).toBe(`/billing?month=${CURRENT}`);

    const href = await page.locator("a", { hasText: "CSV of all organizations" }).getAttribute("href");
    expect(href).toBe(`/api/bills/export?month=${PREVIOUS}&format=csv`);
    const csv = await page.request.get(`${base}${href}`);
    expect(csv.status()).toBe(200);
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toBe(
      "Month,Organization,Org GUID,Space,Space GUID,Plan,Plan GUID,Resource type,Resources,Ex VAT,Inc VAT,Currency",
    );
    // Org A: app and both database plans in prod, app in staging; org B: app.
    expect(lines).toHaveLength(1 + 4 + 1);
    await shot("closed-month");
  });

  it("shows an organization's bill per space and plan, its downloads and its resources", async () => {
    await Promise.all([
      page.waitForURL(`${base}/billing/orgs/${ORG_A}?month=${PREVIOUS}`),
      orgRow(ORG_A).locator("a").first().click(),
    ]);
    const a = firstPrevious.orgs.find((o) => o.org_guid === ORG_A);
    if (!a) throw new Error("org A has no bill last month");
    expect(await text(page.locator("h1"))).toBe(ORG_A);
    const spaces = page.locator("details.space");
    expect(await spaces.count()).toBe(2);
    for (const [i, space] of a.spaces.entries()) {
      const details = spaces.nth(i);
      expect(await details.getAttribute("open")).toBe("");
      const summary = await text(details.locator("summary"));
      expect(summary).toContain(space.space_name);
      expect(summary).toContain(`inc VAT ${formatDecimal(space.inc_vat)}`);
      const rows = details.locator("tbody tr");
      expect(await rows.count()).toBe(space.lines.length);
      for (const [j, line] of space.lines.entries()) {
        const cells = await rows.nth(j).locator("td").allInnerTexts();
        expect(cells).toEqual([
          line.plan_name,
          line.resource_type,
          String(line.resources),
          formatDecimal(line.ex_vat),
          formatDecimal(line.inc_vat),
        ]);
        expect(await rows.nth(j).locator("td.num").last().getAttribute("title")).toBe(line.inc_vat);
      }
    }
    expect(await spaces.first().locator("tbody td:first-child").allInnerTexts()).toEqual([
      "app",
      "db-large",
      "db-small",
    ]);
    expect(await text(page.locator("table.bill-total tfoot"))).toContain(formatDecimal(a.inc_vat));

    // Folding a space away hides its lines.
    await spaces.first().locator("summary").click();
    expect(await spaces.first().getAttribute("open")).toBeNull();
    expect(await spaces.first().locator("tbody").isVisible()).toBe(false);
    await spaces.first().locator("summary").click();

    const csvHref = await page.locator(".downloads a", { hasText: "CSV" }).getAttribute("href");
    expect(csvHref).toBe(`/api/bills/export?month=${PREVIOUS}&org=${ORG_A}&format=csv`);
    const csv = await page.request.get(`${base}${csvHref}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    const rows = (await csv.text()).trim().split("\r\n").slice(1);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.includes(ORG_A))).toBe(true);
    expect(rows.find((r) => r.includes(",db-large,"))).toContain(",service,1,");
    const xlsxHref = await page.locator(".downloads a", { hasText: "XLSX" }).getAttribute("href");
    const xlsx = await page.request.get(`${base}${xlsxHref}`);
    expect(xlsx.status()).toBe(200);
    expect((await xlsx.body()).subarray(0, 2).toString()).toBe("PK");

    const resources = page.locator("table.cf-resources tbody tr");
    // web twice (2, then 4 instances), orders-db twice (small, then large), worker once.
    expect(await resources.count()).toBe(5);
    const webRows = resources.filter({ hasText: "web" });
    expect(await webRows.first().locator("td").allInnerTexts()).toEqual([
      "web",
      "app",
      "prod",
      "app",
      "2",
      "256 MB",
      at(PREVIOUS_START + DAY)
        .slice(0, 16)
        .replace("T", " "),
      at(PREVIOUS_START + 3 * DAY)
        .slice(0, 16)
        .replace("T", " "),
    ]);
    const db = resources.filter({ hasText: "orders-db" });
    expect(await db.locator("td:nth-child(4)").allInnerTexts()).toEqual(["small", "large"]);
    const worker = resources.filter({ hasText: "worker" });
    expect(await text(worker.locator("td").first())).toBe(HOSTILE_NAME);
    expect(await text(worker)).toContain("staging");
    expect(await page.title()).not.toContain("pwned");
    await shot("org");
  });

  it("shows a resource's usage over the month as step charts and its priced events", async () => {
    await Promise.all([
      page.waitForURL(`${base}/billing/resources/app-web?month=${PREVIOUS}`),
      page.locator("table.cf-resources a", { hasText: "web" }).first().click(),
    ]);
    expect(await text(page.locator("h1"))).toBe("web");
    const facts = await text(page.locator(".facts"));
    expect(facts).toContain("app-web");
    expect(facts).toContain(ORG_A);
    expect(await page.locator(".chart.lines canvas").count()).toBe(2);
    const [instances, memory] = await Promise.all([
      chartSpec(page.locator(".chart.lines").first()),
      chartSpec(page.locator(".chart.lines").last()),
    ]);
    expect(instances.series.map((s) => s.label)).toEqual(["app"]);
    // Month start, started, scaled, stopped, month end.
    expect(instances.series[0]?.y).toEqual([0, 2, 4, 0, 0]);
    expect(memory.series[0]?.y).toEqual([0, 512, 1024, 0, 0]);
    expect(instances.x.at(-1)).toBe(Date.parse(monthRange(PREVIOUS).stop) / 1000);

    const expected = (await billableEvents(deps, monthRange(PREVIOUS), [ORG_A], new Date())).filter(
      (e) => e.resource_guid === "app-web",
    );
    expect(expected).toHaveLength(2);
    const heads = page.locator("table.cf-events .group-head");
    expect(await heads.count()).toBe(2);
    expect(await text(heads.first())).toContain("2 × 256 MB");
    expect(await text(heads.last())).toContain("4 × 256 MB");
    const detail = page.locator("table.cf-events tbody tr:not(.group-head)").first();
    const cells = await detail.locator("td").allInnerTexts();
    const first = expected[0]?.price.details[0];
    expect(cells).toEqual([
      "compute",
      "app",
      at(PREVIOUS_START + DAY)
        .slice(0, 16)
        .replace("T", " "),
      at(PREVIOUS_START + 3 * DAY)
        .slice(0, 16)
        .replace("T", " "),
      formatDecimal(first?.ex_vat ?? ""),
      formatDecimal(first?.inc_vat ?? ""),
      "Standard 20%",
      "GBP × 1",
    ]);
    const total = expected.reduce((s, e) => s.plus(e.price.inc_vat), new Money(0));
    expect(await text(page.locator("table.cf-events tfoot"))).toContain(formatDecimal(total.toFixed()));
    await shot("resource");

    // The database: its plan change opens a second interval priced by the other plan, with two components.
    await page.goto(`${base}/billing/resources/svc-orders-db?month=${PREVIOUS}`);
    expect(await text(page.locator(".facts"))).toContain("small → large");
    const service = await chartSpec(page.locator(".chart.lines").first());
    expect(service.series[0]?.y).toEqual([0, 1, 2, 0, 0]);
    const components = await page.locator("table.cf-events tbody tr:not(.group-head) td:first-child").allInnerTexts();
    expect(components).toEqual(["instance", "instance", "storage"]);
    await shot("service");
  });

  it("marks last month's bill as revised once late usage events arrive", async () => {
    sim.addAppEvents(LATE_EVENTS);
    expect((await syncOnce(ctx))[0]?.stored).toBe(2);
    await page.goto(`${base}/billing?month=${PREVIOUS}`);
    const before = firstPrevious.orgs.find((o) => o.org_guid === ORG_A);
    const badge = orgRow(ORG_A).locator("a.bill-revised");
    expect(await text(badge)).toBe(`revised: was ${formatDecimal(before?.inc_vat ?? "")}`);
    expect(await orgRow(ORG_B).locator(".bill-revised").count()).toBe(0);
    const revised = await monthlyBill(deps, PREVIOUS, [ORG_A]);
    expect(revised.orgs[0]?.revision).toBe(2);
    expect(await text(orgRow(ORG_A).locator("td.num").last())).toBe(formatDecimal(revised.orgs[0]?.inc_vat ?? ""));
    await shot("revised");

    await Promise.all([page.waitForURL(`${base}/billing/orgs/${ORG_A}?month=${PREVIOUS}`), badge.click()]);
    const note = await text(page.locator(".revision-note"));
    expect(note).toContain(`revision 2 is ${formatDecimal(revised.orgs[0]?.ex_vat ?? "")} ex VAT`);
    expect(note).toContain(`revision 1 was ${formatDecimal(before?.ex_vat ?? "")} ex VAT`);
    expect(await text(page.locator("table.cf-resources"))).toContain("batch");
  });

  it("explains an empty month, and answers an unknown month, organization or resource", async () => {
    await page.goto(`${base}/billing?month=2001-01`);
    expect(await text(page.locator(".empty-title").first())).toBe("No billed usage in January 2001.");
    expect(await text(page.locator(".empty").first())).toContain("npx fleetledger cf sync --once");
    expect(await text(page.locator(".empty-title").last())).toBe("Nothing billed in the last 12 months.");
    await shot("empty-month");

    expect((await page.goto(`${base}/billing?month=2001-13`))?.status()).toBe(400);
    expect((await page.goto(`${base}/billing/orgs/no-such-org`))?.status()).toBe(404);
    expect(await text(page.locator(".empty-title"))).toBe("There is no such organization.");
    expect((await page.goto(`${base}/billing/resources/no-such-app`))?.status()).toBe(404);
  });

  it("tells a fresh install how to configure and collect Cloud Foundry usage", async () => {
    const fresh = await serve(() => undefined);
    const token = await createToken(fresh.ctx.database.db, "ci-admin", "admin");
    const other = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    watch(other);
    try {
      await logIn(other, fresh.base, token, "/billing");
      expect(await text(other.locator(".empty-title").first())).toBe("No Cloud Foundry foundation is configured yet.");
      const help = await text(other.locator(".empty").first());
      expect(help).toContain("cloudfoundry.foundations");
      expect(help).toContain("npx fleetledger cf sync --once");
      await shot("unconfigured", other);
    } finally {
      await other.close();
    }
  });

  it("ran without script errors, CSP violations or unexpected HTTP errors", () => {
    expect(browserProblems).toEqual([]);
    expect(failedResponses).toEqual([
      "400 /billing",
      "404 /billing/orgs/no-such-org",
      "404 /billing/resources/no-such-app",
    ]);
  });
});

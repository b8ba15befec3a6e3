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
import { loadSettings } from "../../src/config/load.js";
import { SESSION_COOKIE } from "../../src/http/auth.js";
import type { VmSample as CollectedVm } from "../../src/vsphere/collect/sample.js";
import { reportWriter } from "../../src/vsphere/reports.js";
import { runDailyAggregation, runMonthlyAggregation, vmChargeback } from "../../src/vsphere/service.js";
import { recordFailedSnapshot, storeSnapshot } from "../../src/vsphere/snapshots.js";
import { formatDecimal } from "../../src/web/components.js";

const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const EAST = "https://vc-east.example.org/sdk";
const WEST = "https://vc-west.example.org/sdk";
// Configured but never snapshotted: the overview must still list it.
const LAB = "https://vc-lab.example.org/sdk";
const FAILURE = "connect ECONNREFUSED 10.20.0.12:443 <after 4 attempts>";

// The two seeded days are the two before today (UTC), so every page's default window holds them.
const TODAY = Math.floor(Date.now() / 86_400_000) * 86_400;
const DAY1 = TODAY - 2 * 86_400;
const DAY2 = TODAY - 86_400;
const dayName = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
const MONTHS = [...new Set([dayName(DAY1).slice(0, 7), dayName(DAY2).slice(0, 7)])];
const MONTH = dayName(DAY2).slice(0, 7);

const text = (locator: Locator) => locator.innerText();

async function waitForCount(locator: Locator, expected: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await locator.count();
    if (count === expected) return;
    if (Date.now() > deadline) throw new Error(`expected ${expected} matches, found ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const vm = (id: string, name: string, over: Partial<CollectedVm> = {}): CollectedVm => ({
  VmId: id,
  VmUuid: `4210-${id}`,
  InstanceUuid: `5010-${id}`,
  Name: name,
  ResourcePool: "Gold",
  Datacenter: "DC-East",
  Cluster: "Compute-A",
  Folder: "vm/acme",
  ProvisionedDisk: 60,
  VcpuCount: 2,
  RamGB: 8,
  CreationTime: DAY1 - 30 * 86_400,
  IsTemplate: false,
  PoweredOn: true,
  SrmPlaceholder: false,
  ...over,
});

/** East: db-01 grows from 4 to 8 vCPUs at 06:00 on day two, build-07 is deleted at noon that day. */
function eastRows(time: number): CollectedVm[] {
  const day2 = time >= DAY2;
  const rows = [
    vm("vm-101", "web-01"),
    vm("vm-102", "db-01", day2 && time >= DAY2 + 6 * 3600 ? { VcpuCount: 8, RamGB: 32 } : { VcpuCount: 4, RamGB: 16 }),
  ];
  if (time < DAY2 + 12 * 3600) {
    rows.push(vm("vm-103", "build-07", { ResourcePool: "Tin", Folder: "vm/globex/ci", ProvisionedDisk: 40 }));
  }
  return rows;
}

function westRows(): CollectedVm[] {
  const west = { Datacenter: "DC-West", Cluster: "Compute-W" };
  return [
    vm("vm-201", "app-01", { ...west, ResourcePool: "Tin", Folder: "vm/globex" }),
    vm("vm-202", "cache-01", { ...west, Folder: "vm/initech", RamGB: 64 }),
    // A cluster charged per node: listed on the chargeback page, never priced per VM.
    vm("vm-203", "render-01", { ...west, Cluster: "GPU-Render", Folder: "vm/initech", VcpuCount: 16 }),
  ];
}

describe("vCenter pages in a real browser", () => {
  let tmp: string;
  let ctx: AppContext;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;
  let adminToken: string;
  let viewerToken: string;
  const browserProblems: string[] = [];
  const failedResponses: string[] = [];

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `vsphere-${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), "fleetledger-vsphere-web-"));
    const settings = loadSettings({ dataDir: tmp, env: {}, cwd: tmp });
    settings.server.port = 0;
    settings.log.level = "silent";
    // No schedules: they would snapshot the (unreachable) vCenters and roll days up while the test seeds them.
    settings.server.worker = false;
    settings.settings.vcenter_addresses = [EAST, WEST, LAB];
    settings.settings.node_charge_clusters = ["^GPU-"];
    settings.billing.currency = "EUR";
    settings.billing.rate_card = {
      Tin: { vcpu_hour: "0.01", ram_gb_hour: "0.002", disk_gb_month: "0.04" },
      Bronze: { vcpu_hour: "0.02", ram_gb_hour: "0.004", disk_gb_month: "0.06" },
      Silver: { vcpu_hour: "0.03", ram_gb_hour: "0.006", disk_gb_month: "0.08" },
      Gold: { vcpu_hour: "0.05", ram_gb_hour: "0.01", disk_gb_month: "0.12" },
    };
    ctx = await createContext(settings);
    const db = ctx.database.db;

    for (let time = DAY1; time < TODAY; time += 3600) {
      await storeSnapshot(db, {
        vcenter: EAST,
        snapshotTime: time,
        rows: eastRows(time),
        durationMs: 840,
        roundTrips: 6,
        attempts: 1,
      });
      await storeSnapshot(db, {
        vcenter: WEST,
        snapshotTime: time + 20,
        rows: westRows(),
        durationMs: 1320,
        roundTrips: 7,
        attempts: 1,
      });
    }
    await recordFailedSnapshot(db, WEST, TODAY + 20, FAILURE, 4);
    const writer = reportWriter(ctx);
    await runDailyAggregation(ctx, dayName(DAY1), writer);
    await runDailyAggregation(ctx, dayName(DAY2), writer);
    for (const month of MONTHS) await runMonthlyAggregation(ctx, month, writer);

    adminToken = await createToken(db, "ci-admin", "admin");
    viewerToken = await createToken(db, "ci-viewer", "viewer");
    const started = await startServer(ctx, 0, "127.0.0.1");
    app = started.app;
    base = started.address;

    // No skipping: pages that were never rendered in a browser are not tested.
    browser = await chromium.launch({
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
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        browserProblems.push(`console: ${message.text()}`);
      }
    });
    page.on("response", (response) => {
      if (response.status() >= 400) failedResponses.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    page.on("pageerror", (err) => browserProblems.push(`page error: ${err.message}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("asks for a login first, then shows the latest totals per vCenter", async () => {
    await page.goto(`${base}/vcenters`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#token", adminToken);
    await Promise.all([page.waitForURL(`${base}/vcenters`), page.click("button[type=submit]")]);
    expect(await text(page.locator(".nav a.active"))).toBe("vCenter");

    const rows = page.locator("table.data tbody tr");
    expect(await rows.count()).toBe(3);
    const east = rows.filter({ hasText: "vc-east.example.org" });
    // Latest east snapshot: web-01 and db-01 (8 vCPUs, 32 GB); build-07 was deleted.
    expect(await east.locator("td.num").allInnerTexts()).toEqual(["2", "10", "40", "120", "0", "0", "0", "2"]);
    expect(await east.locator("time").getAttribute("title")).toBe(new Date((TODAY - 3600) * 1000).toISOString());
    const west = rows.filter({ hasText: "vc-west.example.org" });
    expect(await text(west.locator("td.num").first())).toBe("3");
    expect(await text(west.locator(".badge.run-failed"))).toContain("last run failed");
    expect(await text(rows.filter({ hasText: "vc-lab.example.org" }))).toContain("No successful snapshot yet.");
    expect(await text(page.locator("tfoot"))).toContain("All vCenters");
    const stats = await text(page.locator(".stats"));
    expect(stats).toContain("2\nvCenters with data");
    expect(stats).toContain("Gold 4");
    await shot("overview");
  });

  it("charts and lists the daily totals", async () => {
    await page.click("nav.tabs >> text=Daily totals");
    await page.waitForURL(`${base}/vcenters/totals/daily`);
    expect(await page.locator(".chart.lines canvas").count()).toBe(4);
    expect(await text(page.locator(".chart-box").first())).toContain("vc-east.example.org");
    const rows = page.locator("#totals-table tbody tr");
    expect(await rows.count()).toBe(4);
    // Newest first: day two, where build-07 was there for half the day.
    const eastDay2 = rows.filter({ hasText: dayName(DAY2) }).filter({ hasText: "vc-east" });
    expect(await text(eastDay2.locator("td.num").first())).toBe("2.50");
    expect(await text(rows.first())).toContain(dayName(DAY2));
    expect(await text(rows.last())).toContain(dayName(DAY1));
    await shot("totals-daily");
  });

  it("shows the hourly detail, newest first, one page at a time", async () => {
    await page.goto(`${base}/vcenters/totals/hourly`);
    expect(await page.locator(".chart.lines canvas").count()).toBe(4);
    const rows = page.locator("#totals-table tbody tr");
    expect(await rows.count()).toBe(50);
    // The last snapshots, at 23:00, close the hour [22:00, 23:00).
    const lastHour = new Date((TODAY - 7200) * 1000).toISOString();
    expect(await text(rows.first())).toContain(`${lastHour.slice(0, 10)} ${lastHour.slice(11, 16)}–`);
    await shot("totals-hourly");
    await Promise.all([
      page.waitForResponse((r) => r.url().includes("offset=50") && r.request().headers()["hx-request"] === "true"),
      page.click("text=Older →"),
    ]);
    await page.waitForURL(/offset=50/);
    expect(await text(page.locator("#totals-table .pager"))).toContain("51–");
    expect(await page.locator(".chart.lines canvas").count()).toBe(4);
  });

  it("finds a VM by name and traces it hourly and daily", async () => {
    await page.goto(`${base}/vm/trace`);
    await page.fill("input[name=vm]", "DB-0");
    await Promise.all([page.waitForURL(/vm=vm-102/), page.click("button:has-text('Trace')")]);
    const section = page.locator(".vm-trace");
    expect(await text(section.locator("h2").first())).toBe("db-01");
    const facts = await text(section.locator(".facts"));
    for (const fact of ["vm-102", "vc-east.example.org", "Gold", "Compute-A", "DC-East", "vm/acme"]) {
      expect(facts).toContain(fact);
    }
    expect(await section.locator(".chart.lines canvas").count()).toBe(4);
    const resized = section.locator("table.data tbody tr", { hasText: "resized" });
    expect(await text(resized)).toContain("vCPUs 4 → 8");
    expect(await text(resized)).toContain("RAM GB 16 → 32");
    await shot("trace-hourly");

    await Promise.all([page.waitForURL(/view=daily/), section.locator("nav.tabs >> text=Daily").click()]);
    const days = page.locator(".vm-trace table.data tbody tr");
    expect(await days.count()).toBe(2);
    // Day two: 4 vCPUs for 6 hours, 8 for 18.
    expect(await text(days.first().locator("td").nth(2))).toBe("7");
    await shot("trace-daily");
  });

  it("lists several matches, marks a deleted VM, and answers an unknown one with 404", async () => {
    await page.goto(`${base}/vm/trace?vm=-01`);
    const matches = page.locator("tbody tr");
    expect(await matches.count()).toBe(5);
    await shot("trace-matches");

    await page.goto(`${base}/vm/trace?vm=vm-103`);
    expect(await text(page.locator(".vm-title"))).toContain("deleted");
    expect(await text(page.locator(".vm-trace table.data tbody tr", { hasText: "vanished" }))).toContain(
      `${dayName(DAY2)} 12:00`,
    );
    await shot("trace-deleted");

    const missing = await page.goto(`${base}/vm/trace?vm=no-such-vm`);
    expect(missing?.status()).toBe(404);
    expect(await text(page.locator(".empty-title"))).toBe("No VM matches “no-such-vm”.");
  });

  it("lists snapshot runs with the failed one and filters them by vCenter", async () => {
    await page.goto(`${base}/vcenters/snapshots`);
    const rows = page.locator("#snapshots-table tbody tr");
    expect(await rows.count()).toBe(50);
    const failed = rows.first();
    expect(await text(failed.locator(".badge"))).toBe("failed");
    expect(await text(failed.locator(".error-text"))).toBe(FAILURE);
    expect(await text(failed)).toContain("vc-west.example.org");
    expect(await text(rows.nth(1).locator(".badge.run-success"))).toBe("success");
    await shot("snapshots");

    await Promise.all([
      page.waitForResponse(
        (r) => r.url().includes("/vcenters/snapshots?") && r.request().headers()["hx-request"] === "true",
      ),
      page.selectOption("select[name=vcenter]", EAST),
    ]);
    await page.waitForURL(/vcenter=/);
    await waitForCount(page.locator("#snapshots-table .badge.run-failed"), 0);
    expect(await page.locator("#snapshots-table tbody tr", { hasText: "vc-west" }).count()).toBe(0);
  });

  it("charges tenants for the month and regenerates a day", async () => {
    const expected = await vmChargeback(ctx, { month: MONTH });
    await page.goto(`${base}/vcenters/chargeback?month=${MONTH}`);
    const table = page.locator("table.chargeback");
    const tenants = await table.locator("tbody tr td:first-child").allInnerTexts();
    expect(tenants).toEqual(["acme", "globex", "initech"]);
    expect(await text(table.locator("thead"))).toMatch(/total eur/i);
    expect(await text(table.locator("tfoot"))).toContain(`${formatDecimal(expected.total)} EUR`);
    expect(Number(expected.total)).toBeGreaterThan(0);
    const node = page.locator("table.data", { hasText: "render-01" });
    expect(await text(node)).toContain("GPU-Render");
    await shot("chargeback");

    await page.goto(`${base}/vcenters/chargeback?date=${dayName(DAY2)}`);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/vcenters/chargeback/regenerate")),
      page.click("#chargeback button:has-text('Regenerate')"),
    ]);
    expect(answer.status()).toBe(200);
    await page.locator("#chargeback .notice").waitFor();
    expect(await text(page.locator("#chargeback .notice"))).toContain(`vctp-daily-${dayName(DAY2)}.xlsx`);
    expect(await page.locator("#chargeback table.chargeback tbody tr").count()).toBe(3);
    await shot("chargeback-regenerated");

    const current = await page.goto(`${base}/vcenters/chargeback`);
    expect(current?.status()).toBe(200);
    expect(await page.locator("input[type=month]").inputValue()).toBe(new Date().toISOString().slice(0, 7));
  });

  it("keeps viewers from regenerating and refuses cross-site posts", async () => {
    const viewer = `${SESSION_COOKIE}=${viewerToken}`;
    const admin = `${SESSION_COOKIE}=${adminToken}`;
    const html = await (
      await fetch(`${base}/vcenters/chargeback?month=${MONTH}`, { headers: { cookie: viewer } })
    ).text();
    expect(html).toMatch(/<button type="button" disabled[^>]*>Regenerate<\/button>/);
    const post = (cookie: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/vcenters/chargeback/regenerate`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
        body: `date=${dayName(DAY2)}`,
      });
    expect((await post(viewer)).status).toBe(403);
    expect((await post(admin, { origin: "https://evil.example" })).status).toBe(403);
    const plain = await post(admin);
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe(`/vcenters/chargeback?date=${dayName(DAY2)}`);
  });

  it("lists the report files with download links", async () => {
    await page.goto(`${base}/vcenters/reports`);
    const names = await page.locator("#reports-table tbody td:first-child").allInnerTexts();
    for (const name of [
      `vctp-daily-${dayName(DAY1)}.xlsx`,
      `vctp-daily-${dayName(DAY2)}.csv`,
      `vctp-monthly-${MONTH}.xlsx`,
      `vctp-monthly-${MONTH}.csv`,
    ]) {
      expect(names).toContain(name);
    }
    const link = page.locator("#reports-table a", { hasText: `vctp-monthly-${MONTH}.xlsx` });
    const href = await link.getAttribute("href");
    expect(href).toBe(`/api/vsphere/reports/vctp-monthly-${MONTH}.xlsx`);
    const download = await page.request.get(`${base}${href}`);
    expect(download.status()).toBe(200);
    expect((await download.body()).subarray(0, 2).toString()).toBe("PK");
    await shot("reports");

    await page.click("nav.tabs.small >> text=Monthly");
    await page.waitForURL(/kind=monthly/);
    expect(await page.locator("#reports-table tbody tr").count()).toBe(2 * MONTHS.length);
  });

  it("ran without script errors, CSP violations or unexpected HTTP errors", () => {
    expect(browserProblems).toEqual([]);
    expect(failedResponses).toEqual(["404 /vm/trace"]);
  });
});

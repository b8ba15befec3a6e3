import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppContext } from "../../src/app/context.js";
import { createContext } from "../../src/app/context.js";
import { startServer } from "../../src/app/server.js";
import { createToken } from "../../src/auth/tokens.js";
import { loadSettings } from "../../src/config/load.js";
import { SESSION_COOKIE } from "../../src/http/auth.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";

const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const FAILING_QUEUE = "test.always-fails";
// A system name that would run script if any page forgot to escape it.
const HOSTILE_NAME = `<img src=x onerror="document.title='pwned'"> lab-02`;

// Playwright's innerText is the text a user sees (hidden nodes excluded), which is what these assertions are about.
const text = (locator: Locator) => locator.innerText();

/** Polls from Node: the pages' CSP forbids the string evaluation waitForFunction would use. */
async function waitForCount(locator: Locator, expected: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await locator.count();
    if (count === expected) return;
    if (Date.now() > deadline) throw new Error(`expected ${expected} matches, found ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Pushed {
  id: string;
  system_key: string;
  system_secret: string;
}

const firstDocument = {
  facts: {
    distro: { name: "rocky", version: "9.4" },
    modules: [
      { id: "nextcloud1", version: "28.0.1" },
      { id: "mail1", version: "3.2.0" },
    ],
    cluster: { label: "HQ cluster", fqdn: "edge-01.example.org" },
    memory: { swap: { used_bytes: 1000 } },
    features: { docker: { enabled: false } },
  },
};

const secondDocument = {
  facts: {
    distro: { name: "rocky", version: "9.5" },
    modules: [
      { id: "nextcloud1", version: "28.0.4" },
      { id: "mail1", version: "3.2.0" },
    ],
    cluster: { label: "HQ cluster (main)", fqdn: "edge-01.example.org" },
    memory: { swap: { used_bytes: 1200 } },
    features: { docker: { enabled: true } },
  },
};

describe("dashboard in a real browser", () => {
  let tmp: string;
  let ctx: AppContext;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;
  let adminToken: string;
  let viewerToken: string;
  let edge: Pushed;
  let lab: Pushed;
  const browserProblems: string[] = [];
  const failedResponses: string[] = [];

  const basic = (s: Pushed) => `Basic ${Buffer.from(`${s.system_key}:${s.system_secret}`).toString("base64")}`;

  async function push(system: Pushed, data: unknown) {
    const response = await fetch(`${base}/api/systems/inventory`, {
      method: "POST",
      headers: { authorization: basic(system), "content-type": "application/json" },
      body: JSON.stringify({ system_id: system.system_key, timestamp: new Date().toISOString(), data }),
    });
    expect(response.status).toBe(202);
  }

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), "fleetledger-web-"));
    const settings = loadSettings({ dataDir: tmp, env: {}, cwd: tmp });
    settings.server.port = 0;
    settings.log.level = "silent";
    // One attempt, so the failing test job becomes a dead letter at once.
    settings.queue.max_attempts = 1;
    ctx = await createContext(settings);
    ctx.queue.register(FAILING_QUEUE, async () => {
      throw new Error("upstream refused <b>the job</b>");
    });
    const started = await startServer(ctx, 0, "127.0.0.1");
    app = started.app;
    base = started.address;

    const db = ctx.database.db;
    await createOrganization(db, "Acme Corp");
    edge = await createSystem(db, "Acme Corp", "edge-01");
    lab = await createSystem(db, "Acme Corp", HOSTILE_NAME);
    adminToken = await createToken(db, "ci-admin", "admin");
    viewerToken = await createToken(db, "ci-viewer", "viewer");

    await push(edge, firstDocument);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await push(edge, secondDocument);
    await push(lab, { facts: { distro: { name: "debian", version: "12" } } });
    const heartbeat = await fetch(`${base}/api/systems/heartbeat`, {
      method: "POST",
      headers: { authorization: basic(edge) },
    });
    expect(heartbeat.status).toBe(200);
    await ctx.queue.enqueue(db, FAILING_QUEUE, { reason: "exercise the dead-letter list" });
    await ctx.queue.drain();

    // No skipping: a dashboard that was never rendered in a browser is not tested.
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
    // Failed HTTP answers are checked against the expected ones below; every other console error is a problem.
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        browserProblems.push(`console: ${message.text()}`);
      }
    });
    page.on("response", (response) => {
      if (response.status() >= 400) failedResponses.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    page.on("pageerror", (err) => browserProblems.push(`page error: ${err.message}`));
    page.on("dialog", (dialog) => {
      browserProblems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("sends anonymous visitors to the login page and rejects a wrong token", async () => {
    const anonymous = await fetch(`${base}/systems`, { redirect: "manual" });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/login?next=%2Fsystems");

    await page.goto(`${base}/systems`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#token", "flt_0000000000000000_notavalidtokennotavalidtoken");
    const [rejected] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/login") && r.request().method() === "POST"),
      page.click("button[type=submit]"),
    ]);
    expect(rejected.status()).toBe(401);
    expect(await text(page.locator("[role=alert]"))).toContain("not valid");
    await shot("login");
  });

  it("logs in with an API token and lists the systems", async () => {
    await page.fill("#token", adminToken);
    await Promise.all([page.waitForURL(`${base}/systems`), page.click("button[type=submit]")]);
    const cookie = (await page.context().cookies()).find((c) => c.name === SESSION_COOKIE);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Lax");

    const rows = page.locator("#systems-table tbody tr");
    expect(await rows.count()).toBe(2);
    const edgeRow = rows.filter({ hasText: "edge-01" });
    expect(await text(edgeRow.locator(".status"))).toBe("active");
    expect(await text(edgeRow.locator("td").nth(2))).toBe("Acme Corp");
    expect(await text(edgeRow.locator("td").nth(4))).toBe("just now");
    expect(await text(edgeRow.locator("td.num"))).toBe("5");
    // The hostile name is shown as text and never became an element.
    const labRow = rows.filter({ hasText: "lab-02" });
    expect(await text(labRow.locator("a"))).toBe(HOSTILE_NAME);
    expect(await text(labRow.locator(".status"))).toBe("unknown");
    expect(await page.locator("#systems-table img").count()).toBe(0);
    await shot("systems");
  });

  it("filters the systems table by status with htmx", async () => {
    await Promise.all([
      page.waitForResponse((r) => r.url().includes("/systems?") && r.request().headers()["hx-request"] === "true"),
      page.selectOption("select[name=status]", "unknown"),
    ]);
    await waitForCount(page.locator("#systems-table tbody tr"), 1);
    expect(await text(page.locator("#systems-table tbody tr"))).toContain("lab-02");
    expect(page.url()).toContain("status=unknown");
    await page.selectOption("select[name=status]", "");
    await waitForCount(page.locator("#systems-table tbody tr"), 2);
  });

  it("shows a system with its change timeline, chart and inventory tree", async () => {
    await Promise.all([page.waitForURL(`${base}/systems/${edge.id}`), page.click("text=edge-01")]);
    expect(await text(page.locator("h1"))).toBe("edge-01");
    expect(await text(page.locator(".page-head .status"))).toBe("active");
    expect(await text(page.locator(".facts"))).toContain(edge.system_key);

    const timeline = page.locator("#timeline");
    const paths = await timeline.locator("td.path").allInnerTexts();
    expect(paths).toEqual(
      expect.arrayContaining([
        "facts.distro.version",
        "facts.modules.nextcloud1.version",
        "facts.cluster.label",
        "facts.memory.swap.used_bytes",
      ]),
    );
    const distroRow = timeline.locator("tr", { has: page.locator("td.path", { hasText: "facts.distro.version" }) });
    expect(await text(distroRow.locator(".badge.sev-high"))).toBe("high");
    expect(await text(distroRow.locator(".change-update"))).toBe("update");
    expect(await text(distroRow.locator("td.values"))).toContain('"9.4" → "9.5"');
    expect(await distroRow.locator(".significant").count()).toBe(1);
    expect(await timeline.locator(".group-head").count()).toBe(1);

    expect(await page.locator(".chart canvas").count()).toBeGreaterThan(0);
    const distroKey = page.locator(".json-tree .j-key", { hasText: "distro" }).first();
    expect(await distroKey.isVisible()).toBe(true);
    expect(await page.locator(".json-tree .j-string", { hasText: '"9.5"' }).first().isVisible()).toBe(true);
    await shot("system");
  });

  it("filters the timeline by severity without reloading the page", async () => {
    const before = await page.locator("#timeline td.path").count();
    expect(before).toBe(5);
    await Promise.all([
      page.waitForResponse((r) => r.url().includes("/changes?") && r.url().includes("severity=low")),
      page.selectOption("select[name=severity]", "low"),
    ]);
    await waitForCount(page.locator("#timeline td.path"), 1);
    expect(await text(page.locator("#timeline td.path"))).toBe("facts.memory.swap.used_bytes");
    expect(await page.locator("#timeline .badge.sev-low").count()).toBe(1);
    expect(page.url()).toContain(`/systems/${edge.id}/changes?severity=low`);
    // The chart and tree outside the swapped fragment survive.
    expect(await page.locator(".chart canvas").count()).toBeGreaterThan(0);
    await shot("system-filtered");

    await page.selectOption("select[name=severity]", "high");
    await waitForCount(page.locator("#timeline td.path"), 2);
    await page.check("input[name=significant]");
    await page.waitForURL(/significant=1/);
    expect(await page.locator("#timeline td.path").count()).toBe(2);
  });

  it("shows the InventoryChanged alert linked to its system", async () => {
    await page.goto(`${base}/alerts`);
    const row = page.locator("tbody tr", { hasText: "InventoryChanged" });
    expect(await row.count()).toBe(1);
    expect(await text(row.locator(".badge.alert-firing"))).toBe("firing");
    expect(await text(row.locator(".badge.sev-high"))).toBe("high");
    expect(await text(row)).toContain("Acme Corp");
    expect(await row.locator("a").getAttribute("href")).toBe(`/systems/${edge.id}`);
    await shot("alerts");
  });

  it("lists queues and dead letters and retries one", async () => {
    await page.goto(`${base}/jobs`);
    const queueRow = page.locator("tbody tr", { hasText: FAILING_QUEUE }).first();
    expect(await text(queueRow)).toContain(FAILING_QUEUE);
    const dead = page.locator("tr", { has: page.locator("button", { hasText: "Retry" }) });
    expect(await dead.count()).toBe(1);
    expect(await text(dead.locator(".error-text"))).toContain("upstream refused <b>the job</b>");
    await shot("jobs");
    await dead.locator("button").click();
    await page.locator("tr.retried").waitFor();
    expect(await text(page.locator("tr.retried"))).toContain("Queued for another attempt.");
  });

  it("answers unknown systems with a 404 page", async () => {
    const response = await page.goto(`${base}/systems/00000000-0000-0000-0000-000000000000`);
    expect(response?.status()).toBe(404);
    expect(await text(page.locator(".empty-title"))).toBe("There is no such system.");
  });

  it("keeps viewers from retrying and refuses cross-site posts", async () => {
    const viewerCookie = `${SESSION_COOKIE}=${viewerToken}`;
    const adminCookie = `${SESSION_COOKIE}=${adminToken}`;
    const jobs = await fetch(`${base}/jobs`, { headers: { cookie: viewerCookie } });
    expect(await jobs.text()).toMatch(/<button type="button" disabled[^>]*>Retry<\/button>/);
    const [deadJob] = await ctx.queue.listDead(1, 0);
    const retry = (cookie: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/jobs/dead/${deadJob?.id ?? 0}/retry`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, ...headers },
      });
    expect((await retry(viewerCookie)).status).toBe(403);
    expect((await retry(adminCookie, { origin: "https://evil.example" })).status).toBe(403);
  });

  it("serves vendored assets publicly with long cache headers", async () => {
    const htmx = await fetch(`${base}/static/htmx.min.js`);
    expect(htmx.status).toBe(200);
    expect(htmx.headers.get("cache-control")).toContain("immutable");
    expect(htmx.headers.get("content-type")).toContain("javascript");
    expect((await fetch(`${base}/static/../package.json`)).status).toBe(404);
  });

  it("logs out", async () => {
    await page.goto(`${base}/systems`);
    await Promise.all([page.waitForURL(`${base}/login`), page.click("text=Log out")]);
    const cookie = (await page.context().cookies()).find((c) => c.name === SESSION_COOKIE);
    expect(cookie).toBeUndefined();
  });

  it("ran without script errors, CSP violations, injected dialogs or unexpected HTTP errors", () => {
    expect(browserProblems).toEqual([]);
    expect(failedResponses).toEqual(["401 /login", "404 /systems/00000000-0000-0000-0000-000000000000"]);
  });
});

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCommandChannel } from "../../src/agent/command-channel.js";
import type { AppContext } from "../../src/app/context.js";
import { createContext } from "../../src/app/context.js";
import { startServer } from "../../src/app/server.js";
import { createToken } from "../../src/auth/tokens.js";
import { loadSettings } from "../../src/config/load.js";
import { SESSION_COOKIE } from "../../src/http/auth.js";
import { createOrganization } from "../../src/systems/registry.js";

const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const text = (locator: Locator) => locator.innerText();
const STEP = 30;
/** Two hours of samples every 30 s, the newest at `now`. */
const SAMPLES = 240;

/** Polls from Node: the pages' CSP forbids the string evaluation waitForFunction would use. */
async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Registered {
  client_id: string;
  client_token: string;
}

interface Metric {
  timestamp: number;
  metric_name: string;
  value: number;
  labels: Record<string, string> | null;
}

/** A series of SAMPLES points ending at `now`; `value(i)` with i = 0 the oldest. */
function series(now: number, name: string, labels: Record<string, string> | null, value: (i: number) => number) {
  return Array.from(
    { length: SAMPLES },
    (_, i): Metric => ({
      timestamp: now - (SAMPLES - 1 - i) * STEP,
      metric_name: name,
      value: value(i),
      labels,
    }),
  );
}

describe("hosts pages in a real browser", () => {
  let tmp: string;
  let ctx: AppContext;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;
  let adminToken: string;
  let viewerToken: string;
  let hot: Registered;
  let calm: Registered;
  let silent: Registered;
  let channel: { stop(): Promise<void> } | undefined;
  const browserProblems: string[] = [];
  const failedResponses: string[] = [];
  /** Every timeseries answer the charts fetched since `newRound()`: its URL and points per system. */
  const answers: { url: URL; points: number }[] = [];
  let round = 0;
  /**
   * Forgets earlier answers. Bodies are read after the response event, so an answer of the previous load can land
   * after the reset; its round, taken when its headers came, keeps it out.
   */
  const newRound = () => {
    round += 1;
    answers.length = 0;
  };
  /** Waits for `count` answers of this round, then a little longer so a surplus one would show. */
  const answersOfRound = async (count: number, what: string) => {
    await waitFor(async () => answers.length >= count, what);
    await new Promise((resolve) => setTimeout(resolve, 300));
  };

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  async function register(hostname: string, org: string): Promise<Registered> {
    const response = await fetch(`${base}/api/clients/register`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ hostname, org, machine_id: `machine-${hostname}`, agent_version: "0.1.0" }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as Registered;
  }

  async function push(host: Registered, metrics: Metric[], logs: unknown[] = []) {
    const response = await fetch(`${base}/api/metrics`, {
      method: "POST",
      headers: { authorization: `Bearer ${host.client_token}`, "content-type": "application/json" },
      body: JSON.stringify({ metrics, logs }),
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { inserted: number; logs_inserted: number };
    expect(answer.inserted).toBe(metrics.length);
    expect(answer.logs_inserted).toBe(logs.length);
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), "fleetledger-hosts-"));
    const settings = loadSettings({ dataDir: tmp, env: {}, cwd: tmp });
    settings.server.port = 0;
    settings.log.level = "silent";
    settings.telemetry.command_timeout_seconds = 10;
    ctx = await createContext(settings);
    const started = await startServer(ctx, 0, "127.0.0.1");
    app = started.app;
    base = started.address;

    const db = ctx.database.db;
    await createOrganization(db, "Acme Corp");
    await createOrganization(db, "Globex");
    adminToken = await createToken(db, "ci-admin", "admin");
    viewerToken = await createToken(db, "ci-viewer", "viewer");

    hot = await register("gpu-01", "Acme Corp");
    calm = await register("gpu-02", "Acme Corp");
    // Registered and never heard from again: offline.
    silent = await register("old-03", "Globex");

    const now = Math.floor(Date.now() / 1000);
    const gpu = (bus: string) => ({ bus_id: bus, model: "RTX 4090" });
    await push(
      hot,
      [
        ...series(now, "ipmi_temp_celsius", { sensor: "CPU1 Temp" }, (i) => 60 + (i % 5)),
        ...series(now, "ipmi_temp_celsius", { sensor: "CPU2 Temp" }, () => 68),
        ...series(now, "ipmi_temp_celsius", { sensor: "CPU1 VRM Temp" }, () => 97),
        ...series(now, "gpu_temperature", gpu("0000:01:00.0"), (i) => (i === SAMPLES - 1 ? 85 : 70 + (i % 10))),
        ...series(now, "gpu_temperature", gpu("0000:02:00.0"), () => 61),
        ...series(now, "gpu_power_draw", gpu("0000:01:00.0"), () => 310),
        ...series(now, "gpu_power_draw", gpu("0000:02:00.0"), () => 140),
        ...series(now, "gpu_utilization_gpu", gpu("0000:01:00.0"), () => 100),
        ...series(now, "nvme_temperature_celsius", { device: "nvme0" }, () => 45),
        ...series(now, "cpu_usage_percent", null, (i) => (i === SAMPLES - 1 ? 93 : 40)),
        ...series(now, "memory_usage_percent", null, () => 78),
        ...series(now, "fs_used_bytes", { mountpoint: "/" }, () => 250e9),
        ...series(now, "fs_total_bytes", { mountpoint: "/" }, () => 500e9),
        // The public check values: 10,000 B/s received, 5,000 B/s sent.
        ...series(now, "network_receive_bytes_total", { interface: "eth0" }, (i) => 1_000_000 + i * 300_000),
        ...series(now, "network_transmit_bytes_total", { interface: "eth0" }, (i) => 500_000 + i * 150_000),
        ...series(now, "disk_read_bytes_total", { device: "nvme0n1" }, (i) => 18e12 + i * 3e9),
        ...series(now, "disk_write_bytes_total", { device: "nvme0n1" }, (i) => 9e12 + i * 1.5e9),
      ],
      [
        {
          log_source: "journal",
          log_timestamp: now - 120,
          content: "Started nvidia-persistenced.service",
          severity: "INFO",
        },
        {
          log_source: "dmesg",
          log_timestamp: now - 60,
          content: "NVRM: Xid 79, GPU has fallen off the bus",
          severity: "ERROR",
        },
        { log_source: "syslog", log_timestamp: now - 30, content: "smartd: nvme0 temperature 45 C", severity: "WARN" },
      ],
    );
    await push(calm, [
      ...series(now, "gpu_temperature", gpu("0000:01:00.0"), () => 55),
      ...series(now, "cpu_usage_percent", null, () => 7.25),
      ...series(now, "memory_usage_percent", null, () => 30),
    ]);

    // A real agent command channel for gpu-01, with an ipmitool that only reports what it was asked.
    const ipmitool = join(tmp, "ipmitool");
    writeFileSync(ipmitool, '#!/bin/sh\necho "fake ipmitool: $*"\n');
    chmodSync(ipmitool, 0o755);
    channel = startCommandChannel({
      serverUrl: base,
      token: hot.client_token,
      allowFanControl: true,
      allowIpmiRaw: false,
      ipmitool,
      log: pino({ level: "silent" }),
    });
    await waitFor(async () => ctx.commands.isConnected(hot.client_id), "the command channel");

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
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const { hostname } = new URL(base);
    await context.addCookies([{ name: SESSION_COOKIE, value: adminToken, domain: hostname, path: "/" }]);
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        browserProblems.push(`console: ${message.text()}`);
      }
    });
    page.on("response", async (response) => {
      const url = new URL(response.url());
      if (response.status() >= 400) failedResponses.push(`${response.status()} ${url.pathname}`);
      if (url.pathname.startsWith("/api/timeseries/") && response.ok()) {
        const asked = round;
        const body = (await response.json()) as { data: Record<string, unknown[]> };
        if (asked !== round) return;
        answers.push({ url, points: Math.max(0, ...Object.values(body.data).map((points) => points.length)) });
      }
    });
    page.on("pageerror", (err) => browserProblems.push(`page error: ${err.message}`));
    page.on("dialog", (dialog) => {
      browserProblems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }, 120_000);

  afterAll(async () => {
    await channel?.stop();
    await browser?.close();
    await app?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const row = (name: string) => page.locator("#hosts-table tbody tr", { hasText: name });
  const cells = (name: string) => row(name).locator("td").allInnerTexts();

  it("lists the hosts with their latest readings, coloured and labelled by threshold", async () => {
    await page.goto(`${base}/hosts`);
    expect(await text(page.locator(".nav a.active"))).toBe("Hosts");
    expect(await page.locator("#hosts-table tbody tr").count()).toBe(3);

    expect(await cells("gpu-01")).toEqual([
      "online",
      "gpu-01",
      "Acme Corp",
      "just now",
      "68 °C",
      "85 °C critical",
      "45 °C",
      "450 W",
      "93% critical",
      "78% high",
      "50%",
    ]);
    const hotRow = row("gpu-01");
    expect(await hotRow.locator(".reading.level-crit").count()).toBe(2);
    expect(await text(hotRow.locator(".reading.level-warn"))).toBe("78% high");
    expect(await hotRow.locator(".reading.level-crit").first().getAttribute("title")).toBe(
      "critical: at or above 80 °C",
    );
    expect(await hotRow.locator(".host-online .dot").count()).toBe(1);

    expect(await cells("gpu-02")).toEqual([
      "online",
      "gpu-02",
      "Acme Corp",
      "just now",
      "–",
      "55 °C",
      "–",
      "–",
      "7.3%",
      "30%",
      "–",
    ]);
    expect(await row("gpu-02").locator(".reading").count()).toBe(0);
    expect((await cells("old-03")).slice(0, 4)).toEqual(["offline", "old-03", "Globex", "never"]);
    expect(await row("old-03").locator(".host-offline .dot").count()).toBe(1);
    // The table reloads itself with the filter it shows.
    expect(await page.locator("#hosts-refresh").getAttribute("hx-trigger")).toBe("every 30s");
    await shot("hosts");
  });

  it("filters hosts by status and organization with htmx", async () => {
    await Promise.all([
      page.waitForResponse((r) => r.url().includes("/hosts?") && r.request().headers()["hx-request"] === "true"),
      page.selectOption("select[name=status]", "offline"),
    ]);
    await waitFor(async () => (await page.locator("#hosts-table tbody tr").count()) === 1, "one offline host");
    expect(await text(page.locator("#hosts-table tbody tr td").nth(1))).toBe("old-03");
    expect(page.url()).toBe(`${base}/hosts?status=offline`);
    expect(await page.locator("#hosts-refresh").getAttribute("hx-get")).toBe("/hosts?status=offline");

    await page.selectOption("select[name=status]", "online");
    await waitFor(async () => (await page.locator("#hosts-table tbody tr").count()) === 2, "two online hosts");
    await page.selectOption("select[name=org]", { label: "Globex" });
    await waitFor(async () => (await page.locator("#hosts-table .empty-title").count()) === 1, "the empty state");
    expect(await text(page.locator("#hosts-table .empty-title"))).toBe("No hosts match these filters.");
  });

  it("draws the host's charts from the timeseries API, at most 2,000 points per series", async () => {
    newRound();
    await page.goto(`${base}/hosts`);
    await Promise.all([page.waitForURL(`${base}/hosts/${hot.client_id}`), row("gpu-01").locator("a").click()]);
    expect(await text(page.locator("h1"))).toBe("gpu-01");
    expect(await text(page.locator(".facts"))).toContain("connected");
    expect(await text(page.locator(".tabs a.active"))).toBe("Charts");

    const charts = page.locator(".host-chart");
    expect(await charts.count()).toBe(6);
    await waitFor(async () => (await page.locator(".host-chart canvas").count()) === 6, "six chart canvases");
    await waitFor(async () => (await text(page.locator(".range-status"))).startsWith("Updated"), "the charts to load");
    expect(await page.locator(".range-status").innerText()).toMatch(
      /^Updated \d\d:\d\d:\d\d UTC · one point per 10 s$/,
    );
    // 11 lines: CPU, GPU, NVMe, CPU %, GPU %, RAM, GPU power, rx, tx, read, write.
    await answersOfRound(11, "the chart answers");
    expect(answers).toHaveLength(11);
    for (const answer of answers) {
      expect(answer.url.searchParams.get("systems")).toBe(hot.client_id);
      expect(answer.points).toBeGreaterThan(0);
      expect(answer.points).toBeLessThanOrEqual(2000);
    }
    const cpuTemps = answers.find((a) => a.url.pathname === "/api/timeseries/ipmi_temp_celsius");
    expect(JSON.parse(cpuTemps?.url.searchParams.get("labels") ?? "null")).toEqual([
      { sensor: "CPU1 Temp" },
      { sensor: "CPU2 Temp" },
    ]);

    const temperatures = page.locator(".chart-box", { hasText: "Temperatures" });
    expect(await temperatures.locator(".u-legend .u-label").allInnerTexts()).toEqual([
      "UTC",
      "CPU (max)",
      "GPU (max)",
      "NVMe (max)",
    ]);
    // Hovering shows the values at that time: the rates are the public check values.
    const network = page.locator(".chart-box", { hasText: "Network" });
    await network.scrollIntoViewIfNeeded();
    const box = await network.locator(".u-over").boundingBox();
    if (!box) throw new Error("network chart not laid out");
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    const values = network.locator(".u-legend .u-value");
    await waitFor(async () => (await values.nth(1).innerText()) !== "–", "the legend values");
    expect((await values.allInnerTexts()).slice(1)).toEqual(["9.8 KB/s", "4.9 KB/s"]);
    const disk = page.locator(".chart-box", { hasText: "Disk" });
    await disk.scrollIntoViewIfNeeded();
    const diskBox = await disk.locator(".u-over").boundingBox();
    if (!diskBox) throw new Error("disk chart not laid out");
    await page.mouse.move(diskBox.x + diskBox.width * 0.5, diskBox.y + diskBox.height / 2);
    const diskValues = disk.locator(".u-legend .u-value");
    await waitFor(async () => (await diskValues.nth(1).innerText()) !== "–", "the disk legend values");
    expect((await diskValues.allInnerTexts()).slice(1)).toEqual(["95 MB/s", "48 MB/s"]);
    await shot("host-charts");
  });

  it("changes the range from the toolbar and a custom period", async () => {
    newRound();
    const before = Date.now() / 1000;
    await page.click(".ranges a[data-range='90d']");
    await answersOfRound(11, "the 90-day answers");
    expect(answers).toHaveLength(11);
    expect(page.url()).toBe(`${base}/hosts/${hot.client_id}?range=90d`);
    expect(await page.locator(".ranges a.active").innerText()).toBe("90d");
    for (const { url, points } of answers) {
      const since = Number(url.searchParams.get("since"));
      const until = Number(url.searchParams.get("until"));
      expect(until - since).toBe(90 * 86_400);
      expect(until).toBeLessThanOrEqual(before + 5);
      expect(url.searchParams.get("step")).toBe("21600");
      // The grid ends now, so two hours of data still give the newest point of every line.
      expect(until).toBeGreaterThanOrEqual(Math.floor(before));
      expect(points).toBeGreaterThan(0);
      expect(points).toBeLessThanOrEqual(2000);
    }
    await shot("host-charts-90d");

    newRound();
    const from = new Date(Date.now() - 3600_000).toISOString().slice(0, 16);
    const to = new Date(Date.now() - 1800_000).toISOString().slice(0, 16);
    await page.fill("input[name=from]", from);
    await page.fill("input[name=to]", to);
    await page.click(".custom-range button");
    await answersOfRound(11, "the custom-range answers");
    expect(answers).toHaveLength(11);
    const asked = answers[0]?.url as URL;
    expect(Number(asked.searchParams.get("since"))).toBe(Date.parse(`${from}:00Z`) / 1000);
    expect(Number(asked.searchParams.get("until"))).toBe(Date.parse(`${to}:00Z`) / 1000);
    expect(await page.locator("input[name=auto-refresh]").isDisabled()).toBe(true);
    expect(await page.locator(".ranges a.active").count()).toBe(0);

    // The address keeps the custom period, and the server renders it so.
    await page.reload();
    expect(await page.locator("input[name=from]").inputValue()).toBe(from);
    expect(await page.locator("input[name=auto-refresh]").isDisabled()).toBe(true);
  });

  it("lists the host's log lines and filters them", async () => {
    await page.click(".tabs >> text=Logs");
    await page.waitForURL(`${base}/hosts/${hot.client_id}/logs`);
    const lines = page.locator("#logs-table tbody tr");
    expect(await lines.count()).toBe(3);
    expect(await lines.first().locator("td").allInnerTexts()).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      "syslog",
      "WARN",
      "smartd: nvme0 temperature 45 C",
    ]);
    await shot("host-logs");

    await page.selectOption("select[name=severity]", "ERROR");
    await waitFor(async () => (await lines.count()) === 1, "only the error line");
    expect(await text(lines.locator(".log-line"))).toBe("NVRM: Xid 79, GPU has fallen off the bus");
    expect(await lines.locator(".badge.sev-critical").count()).toBe(1);
    expect(page.url()).toContain("severity=ERROR");

    await page.selectOption("select[name=severity]", "WARN");
    await waitFor(async () => (await lines.count()) === 2, "warnings and errors");
    await page.selectOption("select[name=source]", "journal");
    await waitFor(async () => (await page.locator("#logs-table .empty-title").count()) === 1, "no INFO at WARN");
    await page.selectOption("select[name=severity]", "");
    await waitFor(async () => (await lines.count()) === 1, "the journal line");
    await page.selectOption("select[name=source]", "");
    await page.fill("input[name=q]", "XID");
    await page.press("input[name=q]", "Enter");
    await waitFor(async () => page.url().includes("q=XID"), "the search");
    await waitFor(async () => (await lines.count()) === 1, "the search result");
    expect(await text(lines.locator(".log-line"))).toContain("Xid 79");
  });

  it("sends a fan command after confirmation and lists it in the audit log", async () => {
    await page.goto(`${base}/hosts/${hot.client_id}/commands`);
    expect(await page.locator(".command-buttons a").allInnerTexts()).toEqual([
      "Fans: standard",
      "Fans: full",
      "Fans: optimal",
      "Fans: heavy IO",
      "System info",
    ]);
    expect(await text(page.locator(".card .empty-title"))).toBe("No commands sent to this host yet.");
    await page.click("text=Fans: full");
    expect(page.url()).toBe(`${base}/hosts/${hot.client_id}/commands?confirm=fan_full_speed`);
    expect(await text(page.locator(".confirm h2"))).toBe("Fans: full on gpu-01");
    await shot("host-commands-confirm");

    await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/commands")),
      page.click("text=Send to gpu-01"),
    ]);
    expect(await text(page.locator(".result"))).toContain('"stdout": "fake ipmitool: raw 0x30 0x45 0x01 0x01"');
    const audit = page.locator("table.audit tbody tr");
    expect(await audit.count()).toBe(1);
    expect(await audit.locator("td").allInnerTexts()).toEqual([
      "just now",
      expect.stringContaining("ci-admin"),
      'fan_control {"mode":"full_speed"}',
      "ok",
      expect.stringContaining("fake ipmitool: raw 0x30 0x45 0x01 0x01"),
    ]);
    await shot("host-commands");

    // Cancel leaves without sending anything.
    await page.click("text=System info");
    await page.click(".confirm >> text=Cancel");
    expect(await page.locator("table.audit tbody tr").count()).toBe(1);
  });

  it("explains why commands cannot be sent: agent not connected, viewer token, other site", async () => {
    await page.goto(`${base}/hosts/${calm.client_id}/commands`);
    expect(await text(page.locator(".facts"))).toContain("not connected");
    expect(await text(page.locator(".card .note"))).toContain("The agent of this host is not connected for commands.");
    expect(await page.locator(".command-buttons button:disabled").count()).toBe(5);
    // A crafted confirmation link shows no send button either.
    await page.goto(`${base}/hosts/${calm.client_id}/commands?confirm=fan_full_speed`);
    expect(await page.locator(".confirm").count()).toBe(0);

    const viewer = { cookie: `${SESSION_COOKIE}=${viewerToken}` };
    const readOnly = await fetch(`${base}/hosts/${hot.client_id}/commands`, { headers: viewer });
    expect(await readOnly.text()).toContain("Sending commands needs an admin token");
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/hosts/${hot.client_id}/commands`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: "action=fan_full_speed",
      });
    expect((await post(viewer)).status).toBe(403);
    expect((await post({ cookie: `${SESSION_COOKIE}=${adminToken}`, origin: "https://evil.example" })).status).toBe(
      403,
    );
    // Neither reached the agent.
    await page.goto(`${base}/hosts/${hot.client_id}/commands`);
    expect(await page.locator("table.audit tbody tr").count()).toBe(1);
  });

  it("answers unknown hosts with a 404 page and shows a host without telemetry", async () => {
    const missing = await page.goto(`${base}/hosts/00000000-0000-0000-0000-000000000000`);
    expect(missing?.status()).toBe(404);
    expect(await text(page.locator(".empty-title"))).toBe("There is no such host.");
    await page.goto(`${base}/hosts/${silent.client_id}`);
    expect(await text(page.locator(".empty-title"))).toBe("No telemetry from this host yet.");
    expect(await text(page.locator(".empty-body"))).toContain("Its agent registered but has sent nothing since.");
    expect(await page.locator(".host-chart").count()).toBe(0);
  });

  it("shows which charts of a host have no data in the range", async () => {
    await page.goto(`${base}/hosts/${calm.client_id}`);
    await waitFor(async () => (await text(page.locator(".range-status"))).startsWith("Updated"), "the charts to load");
    const empty = page.locator(".chart-box", { has: page.locator(".chart-empty") }).locator("figcaption");
    expect(await empty.allInnerTexts()).toEqual(["GPU power W", "Network B/s", "Disk B/s"]);
    expect(await page.locator(".host-chart canvas").count()).toBe(6);
  });

  it("reloads the Hosts table and the charts every 30 s", async () => {
    // Time in the page is Playwright's, so 30 s pass at once; the server sees the new push for real.
    await page.clock.install();
    await page.goto(`${base}/hosts`);
    expect(await cells("gpu-02").then((c) => c[5])).toBe("55 °C");
    const now = Math.floor(Date.now() / 1000);
    await push(calm, [
      {
        timestamp: now,
        metric_name: "gpu_temperature",
        value: 88,
        labels: { bus_id: "0000:01:00.0", model: "RTX 4090" },
      },
    ]);
    const reload = page.waitForResponse((r) => r.request().headers()["hx-trigger"] === "hosts-refresh");
    await page.clock.fastForward(31_000);
    await reload;
    await waitFor(async () => (await cells("gpu-02"))[5] === "88 °C critical", "the reloaded reading");
    expect(page.url()).toBe(`${base}/hosts`);

    await page.goto(`${base}/hosts/${hot.client_id}`);
    await waitFor(async () => (await text(page.locator(".range-status"))).startsWith("Updated"), "the charts to load");
    newRound();
    await page.clock.fastForward(31_000);
    await answersOfRound(11, "the refreshed charts");
    expect(answers).toHaveLength(11);
    await page.uncheck("input[name=auto-refresh]");
    newRound();
    await page.clock.fastForward(31_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answers).toHaveLength(0);
  });

  it("ran without script errors, CSP violations, dialogs or unexpected HTTP errors", () => {
    expect(browserProblems).toEqual([]);
    expect(failedResponses).toEqual(["404 /hosts/00000000-0000-0000-0000-000000000000"]);
  });
});

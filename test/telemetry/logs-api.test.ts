import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS } from "../helpers/env.js";
import { type Agent, nowSeconds, type TelemetryFixture, telemetryFixture } from "./fixture.js";

interface Line {
  id: number;
  system_id: string;
  source: string;
  ts: number;
  severity: string | null;
  content: string;
}

describe.each(DIALECTS)("GET /api/logs on %s", (dialect) => {
  let fx: TelemetryFixture;
  let a: Agent;
  let b: Agent;
  let t0: number;
  const lines = [
    { source: "journal", severity: "ERROR", content: "Disk failure on /dev/sda" },
    { source: "dmesg", severity: "WARN", content: "GPU fell off the bus" },
    { source: "journal", severity: "INFO", content: "backup 100% done" },
    { source: "syslog", severity: "DEBUG", content: "value a_b changed" },
    { source: "journal", severity: null, content: "axb plain" },
    { source: "dmesg", severity: "INFO", content: "path C:\\temp\\x" },
    { source: "journal", severity: "WARN", content: "disk nearly FULL" },
  ];

  beforeAll(async () => {
    fx = await telemetryFixture(dialect);
    a = await fx.agent("log-a");
    b = await fx.agent("log-b");
    t0 = nowSeconds() - 3600;
    // Line i is stamped t0 + 60·i + 0.25, so newest first is the reverse of this list.
    const logs = lines.map((l, i) => ({
      log_source: l.source,
      log_timestamp: t0 + 60 * i + 0.25,
      content: l.content,
      severity: l.severity,
    }));
    expect((await fx.push(a, { metrics: [], logs })).json()).toMatchObject({ logs_inserted: 7 });
    const other = { log_source: "journal", log_timestamp: t0 + 30, content: "disk on b", severity: "ERROR" };
    expect((await fx.push(b, { metrics: [], logs: [other] })).json()).toMatchObject({ logs_inserted: 1 });
  });
  afterAll(async () => fx?.server.cleanup());

  const search = async (params: string): Promise<{ logs: Line[]; next_before_id: number | null }> => {
    const res = await fx.get(`/api/logs?${params}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const contents = async (params: string) => (await search(params)).logs.map((l) => l.content);

  it("lists one system's lines newest first with their fields", async () => {
    const page = await search(`systems=${a.id}`);
    expect(page.next_before_id).toBeNull();
    expect(page.logs.map((l) => l.content)).toEqual(lines.map((l) => l.content).reverse());
    expect(page.logs[6]).toEqual({
      id: expect.any(Number),
      system_id: a.id,
      source: "journal",
      ts: t0 + 0.25,
      severity: "ERROR",
      content: "Disk failure on /dev/sda",
    });
    expect((await search("")).logs).toHaveLength(8);
  });

  it("filters by source, minimum severity, time and text", async () => {
    expect(await contents(`systems=${a.id}&source=dmesg,syslog`)).toEqual([
      "path C:\\temp\\x",
      "value a_b changed",
      "GPU fell off the bus",
    ]);
    expect(await contents(`systems=${a.id}&severity=WARN`)).toEqual([
      "disk nearly FULL",
      "GPU fell off the bus",
      "Disk failure on /dev/sda",
    ]);
    expect(await contents(`systems=${a.id}&severity=error`)).toEqual(["Disk failure on /dev/sda"]);
    expect(await contents(`systems=${a.id}&severity=DEBUG`)).toHaveLength(6);
    expect(await contents(`systems=${a.id}&since=${t0 + 60}&until=${t0 + 180.25}`)).toEqual([
      "value a_b changed",
      "backup 100% done",
      "GPU fell off the bus",
    ]);
    expect(await contents("q=DISK")).toEqual(["disk nearly FULL", "disk on b", "Disk failure on /dev/sda"]);
    expect(await contents("q=%25")).toEqual(["backup 100% done"]);
    expect(await contents("q=_")).toEqual(["value a_b changed"]);
    expect(await contents("q=a_b")).toEqual(["value a_b changed"]);
    expect(await contents(`q=${encodeURIComponent("\\temp")}`)).toEqual(["path C:\\temp\\x"]);
    expect(await contents("q=nothing-like-this")).toEqual([]);
  });

  it("pages with before_id until the last page", async () => {
    const seen: string[] = [];
    let cursor: number | null = null;
    let pages = 0;
    do {
      const page = await search(`systems=${a.id}&limit=3${cursor ? `&before_id=${cursor}` : ""}`);
      expect(page.logs.length).toBeLessThanOrEqual(3);
      seen.push(...page.logs.map((l) => l.content));
      cursor = page.next_before_id;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(lines.map((l) => l.content).reverse());
  });

  it("refuses bad parameters", async () => {
    for (const [params, message] of [
      ["severity=FATAL", /^severity must be one of/],
      ["limit=0", /^limit must be an integer from 1 to 1000/],
      ["limit=1001", /^limit must be an integer/],
      ["before_id=abc", /^before_id must be an integer/],
      ["since=soon", /^since must be unix seconds/],
      ["grep=x", /^unknown parameter grep/],
    ] as const) {
      const res = await fx.get(`/api/logs?${params}`);
      expect(res.statusCode, params).toBe(400);
      expect(res.json().message).toMatch(message);
    }
    expect((await fx.get("/api/logs", "")).statusCode).toBe(401);
  });
});

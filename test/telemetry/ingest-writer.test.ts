import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ValidatedBatch } from "../../src/telemetry/batch.js";
import { ThreadedWriter } from "../../src/telemetry/ingest-writer.js";
import { nowSeconds, type TelemetryFixture, telemetryFixture } from "./fixture.js";

const BODY = (ts: number) => ({
  metrics: [
    { timestamp: ts, metric_name: "cpu_usage_percent", value: 12.5, labels: null },
    { timestamp: ts + 0.25, metric_name: "disk_read_bytes_total", value: 18e12, labels: { device: "nvme0n1" } },
    { timestamp: ts, metric_name: "bad name", value: 1 },
  ],
  logs: [{ log_source: "journal", log_timestamp: ts, content: "kernel: eth0 link up", severity: "INFO" }],
});

async function stored(fx: TelemetryFixture, systemId: string) {
  const db = fx.server.ctx.database.db;
  const points = await db
    .selectFrom("metric_points")
    .innerJoin("metric_series", "metric_series.id", "metric_points.series_id")
    .select(["metric_series.metric_name", "metric_series.labels", "metric_points.ts", "metric_points.value"])
    .where("metric_series.system_id", "=", systemId)
    .orderBy("metric_series.metric_name")
    .execute();
  const logs = await db
    .selectFrom("log_entries")
    .select(["source", "ts", "severity", "content"])
    .where("system_id", "=", systemId)
    .execute();
  return { points, logs };
}

describe("metric writer on SQLite", () => {
  let threaded: TelemetryFixture;
  let inProcess: TelemetryFixture;
  beforeAll(async () => {
    threaded = await telemetryFixture("sqlite");
    inProcess = await telemetryFixture("sqlite", (s) => {
      s.telemetry.writer_thread = false;
    });
  });
  afterAll(async () => {
    await threaded?.server.cleanup();
    await inProcess?.server.cleanup();
  });

  it("stores and answers the same on its own thread as in-process", async () => {
    const ts = nowSeconds() - 60;
    const results = [];
    for (const fx of [threaded, inProcess]) {
      const agent = await fx.agent("gpu-1");
      const res = await fx.push(agent, BODY(ts));
      expect(res.statusCode).toBe(200);
      results.push({ answer: res.json(), rows: await stored(fx, agent.id) });
    }
    const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
    expect(a.answer).toEqual({
      received: 3,
      inserted: 2,
      logs_received: 1,
      logs_inserted: 1,
      rejected: [{ index: 2, reason: expect.stringContaining("metric_name") }],
      logs_rejected: [],
    });
    expect(a.rows.points).toEqual([
      { metric_name: "cpu_usage_percent", labels: "{}", ts: ts * 1000, value: 12.5 },
      { metric_name: "disk_read_bytes_total", labels: '{"device":"nvme0n1"}', ts: ts * 1000 + 250, value: 18e12 },
    ]);
    expect(b).toEqual(a);
  });
});

describe("ThreadedWriter", () => {
  it("fails the batches of a thread that cannot open its database instead of leaving them waiting", async () => {
    // A plain file where the database's folder should be: the thread cannot create the folder nor open the file.
    const dir = mkdtempSync(join(tmpdir(), "fleetledger-writer-"));
    writeFileSync(join(dir, "not-a-folder"), "");
    const writer = new ThreadedWriter(
      { url: `sqlite:${join(dir, "not-a-folder", "x.db")}`, maxSeriesPerSystem: 10 },
      pino({ level: "silent" }),
    );
    const batch: ValidatedBatch = {
      received: 0,
      metrics: { index: [], name: [], labels: [], ts: [], value: [] },
      rejected: [],
      logsReceived: 0,
      logs: [],
      logsRejected: [],
      hwHash: null,
    };
    await expect(writer.write("s", batch, Date.now())).rejects.toThrow(/metric writer thread stopped/);
    // The next batch starts a new thread, which fails the same way: no batch is ever left hanging.
    await expect(writer.write("s", batch, Date.now())).rejects.toThrow(/metric writer thread stopped/);
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

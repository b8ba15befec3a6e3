import type { Kysely } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DB } from "../../src/db/types.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import { maintainTelemetry } from "../../src/telemetry/maintenance.js";
import { applyRetention } from "../../src/telemetry/retention.js";
import { rollupHours, rollupRecent } from "../../src/telemetry/rollup.js";
import { cli } from "../helpers/cli.js";
import { createTestEnv, DIALECTS, type TestEnv } from "../helpers/env.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 2, 10, 12, 20);
const at = (h: number, m: number, s = 0, ms = 0) => Date.UTC(2026, 2, 10, h, m, s, ms);
const RETENTION = { metrics_days: 30, rollup_5m_days: 90, rollup_1h_days: 400, logs_days: 7 };

async function addSeries(db: Kysely<DB>, systemId: string, name: string, labels = "{}"): Promise<number> {
  const row = await db
    .insertInto("metric_series")
    .values({ system_id: systemId, metric_name: name, labels, created_at: new Date(NOW).toISOString() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

async function addPoints(db: Kysely<DB>, series: number, points: [number, number][]): Promise<void> {
  await db
    .insertInto("metric_points")
    .values(points.map(([ts, value]) => ({ series_id: series, ts, value })))
    .execute();
}

async function rollups(db: Kysely<DB>) {
  const rows = await db
    .selectFrom("metric_rollups")
    .selectAll()
    .orderBy("series_id")
    .orderBy("resolution")
    .orderBy("bucket")
    .execute();
  return rows.map((r) => ({
    series: Number(r.series_id),
    resolution: Number(r.resolution),
    bucket: new Date(Number(r.bucket)).toISOString(),
    count: Number(r.count),
    sum: r.sum,
    min: r.min,
    max: r.max,
    last: r.last,
    last_ts: new Date(Number(r.last_ts)).toISOString(),
  }));
}

const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DIALECTS)("telemetry rollups and retention (%s)", (dialect) => {
  let env: TestEnv;
  let db: Kysely<DB>;
  let systemA: string;
  let systemB: string;

  beforeAll(async () => {
    env = await createTestEnv(dialect);
    db = env.ctx.database.db;
    const org = await createOrganization(db, "acme");
    systemA = (await createSystem(db, org.id, "host-a")).id;
    systemB = (await createSystem(db, org.id, "host-b")).id;
  });
  afterAll(() => env.cleanup());
  beforeEach(async () => {
    await db.deleteFrom("metric_rollups").execute();
    await db.deleteFrom("metric_points").execute();
    await db.deleteFrom("metric_series").execute();
    await db.deleteFrom("log_entries").execute();
  });

  it("rolls up the last three hours into exact 5-minute and 1-hour buckets, and nothing older", async () => {
    const temp = await addSeries(db, systemA, "gpu_temperature", '{"bus_id":"0"}');
    const fan = await addSeries(db, systemB, "ipmi_fan_rpm");
    await addPoints(db, temp, [
      [at(9, 59, 59, 999), 50],
      [at(11, 0), 1],
      [at(11, 1), 3],
      [at(11, 4, 59, 999), 2],
      [at(11, 5), 10],
      [at(11, 59), -4],
      [at(12, 10), 7],
    ]);
    await addPoints(db, fan, [[at(10, 0), 1200]]);

    expect(await rollupRecent(db, NOW)).toEqual({ hours: 3, points: 7, rows: 8 });
    const row = (series: number, resolution: number, bucket: number, rest: object) => ({
      series,
      resolution,
      bucket: iso(bucket),
      ...rest,
    });
    expect(await rollups(db)).toEqual([
      row(temp, 300, at(11, 0), { count: 3, sum: 6, min: 1, max: 3, last: 2, last_ts: iso(at(11, 4, 59, 999)) }),
      row(temp, 300, at(11, 5), { count: 1, sum: 10, min: 10, max: 10, last: 10, last_ts: iso(at(11, 5)) }),
      row(temp, 300, at(11, 55), { count: 1, sum: -4, min: -4, max: -4, last: -4, last_ts: iso(at(11, 59)) }),
      row(temp, 300, at(12, 10), { count: 1, sum: 7, min: 7, max: 7, last: 7, last_ts: iso(at(12, 10)) }),
      row(temp, 3600, at(11, 0), { count: 5, sum: 12, min: -4, max: 10, last: -4, last_ts: iso(at(11, 59)) }),
      row(temp, 3600, at(12, 0), { count: 1, sum: 7, min: 7, max: 7, last: 7, last_ts: iso(at(12, 10)) }),
      row(fan, 300, at(10, 0), { count: 1, sum: 1200, min: 1200, max: 1200, last: 1200, last_ts: iso(at(10, 0)) }),
      row(fan, 3600, at(10, 0), { count: 1, sum: 1200, min: 1200, max: 1200, last: 1200, last_ts: iso(at(10, 0)) }),
    ]);
  });

  it("repeating a run changes nothing; a late point rewrites its buckets instead of adding a row", async () => {
    const temp = await addSeries(db, systemA, "gpu_temperature");
    await addPoints(db, temp, [
      [at(11, 0), 1],
      [at(11, 4), 2],
    ]);
    await rollupHours(db, at(11, 0), at(12, 0));
    const first = await rollups(db);
    expect(await rollupHours(db, at(11, 30), at(12, 30))).toEqual({ hours: 1, points: 2, rows: 2 });
    expect(await rollups(db)).toEqual(first);

    await addPoints(db, temp, [[at(11, 2), 100]]);
    await rollupRecent(db, NOW);
    expect((await rollups(db)).map((r) => [r.resolution, r.bucket, r.count, r.sum, r.max, r.last])).toEqual([
      [300, iso(at(11, 0)), 3, 103, 100, 2],
      [3600, iso(at(11, 0)), 3, 103, 100, 2],
    ]);
  });

  it("rolls up whole hours one last time as it deletes them, then drops old rollups and log lines", async () => {
    const counter = await addSeries(db, systemA, "network_receive_bytes_total", '{"interface":"eth0"}');
    const idle = await addSeries(db, systemB, "cpu_load_1m");
    const monthAgo = (h: number, m: number) => at(h, m) - 30 * DAY;
    await addPoints(db, counter, [
      [monthAgo(10, 10), 1_000],
      [monthAgo(10, 20), 2_000],
      [monthAgo(11, 30), 5_000],
      [monthAgo(12, 10), 9_000],
    ]);
    // Written before the 10:20 point arrived: the last rollup before deletion must replace it.
    await db
      .insertInto("metric_rollups")
      .values([
        {
          series_id: counter,
          resolution: 3600,
          bucket: monthAgo(10, 0),
          count: 1,
          sum: 1_000,
          min: 1_000,
          max: 1_000,
          last: 1_000,
          last_ts: monthAgo(10, 10),
        },
        {
          series_id: idle,
          resolution: 300,
          bucket: NOW - 90 * DAY - 5 * MIN,
          count: 1,
          sum: 1,
          min: 1,
          max: 1,
          last: 1,
          last_ts: NOW - 90 * DAY - 5 * MIN,
        },
        {
          series_id: idle,
          resolution: 300,
          bucket: NOW - 90 * DAY,
          count: 1,
          sum: 2,
          min: 2,
          max: 2,
          last: 2,
          last_ts: NOW - 90 * DAY,
        },
        {
          series_id: idle,
          resolution: 3600,
          bucket: NOW - 400 * DAY - HOUR,
          count: 1,
          sum: 3,
          min: 3,
          max: 3,
          last: 3,
          last_ts: NOW - 400 * DAY - HOUR,
        },
        {
          series_id: idle,
          resolution: 3600,
          bucket: NOW - 399 * DAY,
          count: 1,
          sum: 4,
          min: 4,
          max: 4,
          last: 4,
          last_ts: NOW - 399 * DAY,
        },
      ])
      .execute();
    const log = (ts: number, content: string) => ({
      system_id: systemA,
      source: "journal",
      ts,
      severity: "INFO",
      content,
      received_at: iso(ts),
    });
    await db
      .insertInto("log_entries")
      .values([log(NOW - 7 * DAY - 1, "old"), log(NOW - 7 * DAY, "just kept"), log(NOW, "new")])
      .execute();

    // The cut-off hour is 12:00 a month ago: the 12:10 point stays (although older than 30 days) with its hour.
    expect(await applyRetention(db, RETENTION, NOW)).toEqual({
      points: 3,
      finalRollupRows: 5,
      rollups5m: 1,
      rollups1h: 1,
      logs: 1,
    });
    const points = await db.selectFrom("metric_points").select(["series_id", "ts"]).execute();
    expect(points.map((p) => [Number(p.series_id), Number(p.ts)])).toEqual([[counter, monthAgo(12, 10)]]);
    expect(
      (await rollups(db)).map((r) => [r.series, r.resolution, r.bucket, r.count, r.sum, r.last, r.last_ts]),
    ).toEqual([
      [counter, 300, iso(monthAgo(10, 10)), 1, 1_000, 1_000, iso(monthAgo(10, 10))],
      [counter, 300, iso(monthAgo(10, 20)), 1, 2_000, 2_000, iso(monthAgo(10, 20))],
      [counter, 300, iso(monthAgo(11, 30)), 1, 5_000, 5_000, iso(monthAgo(11, 30))],
      [counter, 3600, iso(monthAgo(10, 0)), 2, 3_000, 2_000, iso(monthAgo(10, 20))],
      [counter, 3600, iso(monthAgo(11, 0)), 1, 5_000, 5_000, iso(monthAgo(11, 30))],
      [idle, 300, iso(NOW - 90 * DAY), 1, 2, 2, iso(NOW - 90 * DAY)],
      [idle, 3600, iso(NOW - 399 * DAY), 1, 4, 4, iso(NOW - 399 * DAY)],
    ]);
    const logs = await db.selectFrom("log_entries").select("content").orderBy("ts").execute();
    expect(logs.map((l) => l.content)).toEqual(["just kept", "new"]);

    expect(await applyRetention(db, RETENTION, NOW)).toEqual({
      points: 0,
      finalRollupRows: 0,
      rollups5m: 0,
      rollups1h: 0,
      logs: 0,
    });
  });

  it("deletes many log lines in several bounded batches", async () => {
    const rows = Array.from({ length: 11_000 }, (_, i) => ({
      system_id: systemA,
      source: "dmesg",
      ts: NOW - 8 * DAY - i,
      severity: null,
      content: `line ${i}`,
      received_at: iso(NOW),
    }));
    for (let i = 0; i < rows.length; i += 2_000)
      await db
        .insertInto("log_entries")
        .values(rows.slice(i, i + 2_000))
        .execute();
    await db
      .insertInto("log_entries")
      .values({ ...(rows[0] as (typeof rows)[number]), ts: NOW, content: "kept" })
      .execute();
    const result = await applyRetention(db, RETENTION, NOW);
    expect(result.logs).toBe(11_000);
    expect(await db.selectFrom("log_entries").select("content").execute()).toEqual([{ content: "kept" }]);
  });

  it("maintainTelemetry rolls up the recent hours, then applies retention", async () => {
    const load = await addSeries(db, systemA, "cpu_load_1m");
    await addPoints(db, load, [
      [at(12, 1), 0.5],
      [at(12, 2), 1.5],
      [NOW - 31 * DAY, 9],
    ]);
    expect(await maintainTelemetry(db, RETENTION, NOW)).toEqual({
      rollup: { hours: 3, points: 2, rows: 2 },
      retention: { points: 1, finalRollupRows: 2, rollups5m: 0, rollups1h: 0, logs: 0 },
    });
    expect((await rollups(db)).map((r) => [r.resolution, r.bucket, r.count, r.sum])).toEqual([
      [300, iso(NOW - 31 * DAY), 1, 9],
      [300, iso(at(12, 0)), 2, 2],
      [3600, iso(NOW - 31 * DAY - 20 * MIN), 1, 9],
      [3600, iso(at(12, 0)), 2, 2],
    ]);
  });

  it.runIf(dialect === "sqlite")(
    "fleetledger telemetry maintain --json runs one pass and prints its counts",
    async () => {
      const load = await addSeries(db, systemA, "cpu_load_1m");
      await addPoints(db, load, [
        [at(12, 1), 0.5],
        [NOW - 40 * DAY, 9],
      ]);
      const result = cli(["-d", env.dataDir, "telemetry", "maintain", "--now", iso(NOW), "--json"]);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        rollup: { hours: 3, points: 1, rows: 2 },
        retention: { points: 1, finalRollupRows: 2, rollups5m: 0, rollups1h: 0, logs: 0 },
      });
      expect(cli(["-d", env.dataDir, "telemetry", "maintain", "--now", "yesterday"]).status).not.toBe(0);
    },
  );
});

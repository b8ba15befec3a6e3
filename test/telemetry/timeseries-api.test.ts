import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/tokens.js";
import { DIALECTS } from "../helpers/env.js";
import { type Agent, nowSeconds, type TelemetryFixture, telemetryFixture } from "./fixture.js";

type Point = { timestamp: number; value: number };

function expectAll(points: Point[], value: number) {
  expect(points.length).toBeGreaterThan(0);
  for (const p of points) expect(Math.abs(p.value - value) / value).toBeLessThan(1e-9);
}

describe.each(DIALECTS)("GET /api/timeseries on %s", (dialect) => {
  let fx: TelemetryFixture;
  let a: Agent;
  let b: Agent;
  /** Unix seconds of the first sample of a and b, sampled every 30 s for an hour. */
  let base: number;
  const SAMPLES = 120;

  beforeAll(async () => {
    fx = await telemetryFixture(dialect);
    a = await fx.agent("host-a");
    b = await fx.agent("host-b");
    base = Math.floor(nowSeconds() / 30) * 30 - 30 * SAMPLES;
    const rows = (fn: (i: number, t: number) => { metric_name: string; value: number; labels?: object }[]) =>
      Array.from({ length: SAMPLES }, (_, i) =>
        fn(i, base + 30 * i).map((r) => ({ timestamp: base + 30 * i, ...r })),
      ).flat();
    // The spec's public check values.
    const pushA = await fx.push(a, {
      metrics: rows((i) => [
        { metric_name: "network_receive_bytes_total", value: 1_000_000 + i * 300_000, labels: { interface: "eth0" } },
        { metric_name: "network_transmit_bytes_total", value: 500_000 + i * 150_000, labels: { interface: "eth0" } },
        { metric_name: "disk_read_bytes_total", value: 18e12 + i * 30 * 100e6, labels: { device: "nvme0n1" } },
        { metric_name: "disk_write_bytes_total", value: 9e12 + i * 30 * 50e6, labels: { device: "nvme0n1" } },
        { metric_name: "ipmi_temp_celsius", value: 40, labels: { sensor: "CPU Temp" } },
        { metric_name: "ipmi_temp_celsius", value: 60, labels: { sensor: "VRM Temp" } },
      ]),
    });
    expect(pushA.json()).toMatchObject({ inserted: SAMPLES * 6, rejected: [] });
    const pushB = await fx.push(b, {
      metrics: rows((i) => [
        { metric_name: "network_receive_bytes_total", value: 2_000_000 + i * 600_000, labels: { interface: "eth0" } },
        { metric_name: "ipmi_temp_celsius", value: 50, labels: { sensor: "CPU Temp" } },
      ]),
    });
    expect(pushB.json()).toMatchObject({ inserted: SAMPLES * 2, rejected: [] });
  });
  afterAll(async () => fx?.server.cleanup());

  const range = () => `since=${base + 600}&until=${base + 3000}&step=60`;
  const query = async (path: string) => {
    const res = await fx.get(path);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  it("answers the spec's check values with Prometheus rate semantics", async () => {
    const rx = await query(`/api/timeseries/network_receive_bytes_total/rate?${range()}&systems=${a.id}`);
    expect(Object.keys(rx.data)).toEqual([a.id]);
    expect(rx.data[a.id]).toHaveLength(41);
    expect(rx.data[a.id][0].timestamp).toBe(base + 600);
    expect(rx.data[a.id][40].timestamp).toBe(base + 3000);
    expectAll(rx.data[a.id], 10_000);
    expect(rx).toMatchObject({
      clients: { [a.id]: "host-a" },
      time_range: { start: base + 600, end: base + 3000 },
      metric: "network_receive_bytes_total",
      aggregation: "sum",
      unit: "rate",
      rate_window_minutes: 5,
      function: "rate",
      window_seconds: 300,
      step: 60,
      source: "raw",
    });

    const both = await query(
      `/api/timeseries/network_receive_bytes_total,network_transmit_bytes_total/rate?${range()}&systems=${a.id}`,
    );
    expectAll(both.data[a.id], 15_000);
    const disk = await query(`/api/timeseries/disk_read_bytes_total,disk_write_bytes_total/rate?${range()}`);
    expect(Object.keys(disk.data)).toEqual([a.id]);
    expectAll(disk.data[a.id], 150_000_000);

    const increase = await query(`/api/timeseries/network_receive_bytes_total/rate?${range()}&fn=increase&window=2m`);
    expect(increase).toMatchObject({ unit: "increase", window_seconds: 120 });
    expectAll(increase.data[a.id], 1_200_000);
    expectAll(increase.data[b.id], 2_400_000);
    const irate = await query(`/api/timeseries/network_receive_bytes_total/rate?${range()}&fn=irate`);
    expectAll(irate.data[a.id], 10_000);
    expectAll(irate.data[b.id], 20_000);
  });

  it("combines series per system and filters by system and labels", async () => {
    const path = (params: string) => `/api/timeseries/ipmi_temp_celsius?${range()}${params}`;
    const max = await query(path(""));
    expect(max.aggregation).toBe("max");
    expect(max.unit).toBe("");
    expect(max.clients).toEqual({ [a.id]: "host-a", [b.id]: "host-b" });
    expectAll(max.data[a.id], 60);
    expectAll(max.data[b.id], 50);
    expect(max.data[a.id]).toHaveLength(41);
    expectAll((await query(path("&aggregation=avg"))).data[a.id], 50);
    expectAll((await query(path("&aggregation=sum"))).data[a.id], 100);
    expectAll((await query(path("&aggregation=min"))).data[a.id], 40);

    const raw = await query(path(`&aggregation=raw&systems=${a.id}`));
    expect(raw.data[a.id].map((s: { metric: string; labels: object }) => [s.metric, s.labels])).toEqual([
      ["ipmi_temp_celsius", { sensor: "CPU Temp" }],
      ["ipmi_temp_celsius", { sensor: "VRM Temp" }],
    ]);
    expectAll(raw.data[a.id][1].points, 60);

    const json = await query(path(`&labels=${encodeURIComponent('{"sensor":"CPU Temp"}')}&systems=${a.id}`));
    expectAll(json.data[a.id], 40);
    const pairs = await query(path(`&labels=${encodeURIComponent("sensor=VRM Temp")}&aggregation=min`));
    expect(Object.keys(pairs.data)).toEqual([a.id]);
    expectAll(pairs.data[a.id], 60);
    const anyOf = encodeURIComponent('[{"sensor":"CPU Temp"},{"sensor":"VRM Temp"}]');
    expectAll((await query(path(`&labels=${anyOf}&aggregation=sum&systems=${a.id}`))).data[a.id], 100);
    const none = await query(path("&labels=sensor=nope"));
    expect(none).toMatchObject({ data: {}, clients: {} });

    const onlyB = await query(`/api/timeseries/network_receive_bytes_total/rate?${range()}&systems=${b.id}`);
    expect(Object.keys(onlyB.data)).toEqual([b.id]);
    expectAll(onlyB.data[b.id], 20_000);
  });

  it("never ships more than 2,000 points per series", async () => {
    const c = await fx.agent("host-c");
    const end = Math.floor(nowSeconds() / 30) * 30;
    const metrics = Array.from({ length: 2880 }, (_, i) => ({
      timestamp: end - 30 * i,
      metric_name: "cpu_usage_percent",
      value: i % 100,
    }));
    expect((await fx.push(c, { metrics })).json()).toMatchObject({ inserted: 2880 });
    const since = end - 86_400;
    const fine = await query(`/api/timeseries/cpu_usage_percent?since=${since}&until=${end}&step=1&aggregation=raw`);
    expect(fine).toMatchObject({ step: 44, step_raised_from: 1, source: "raw" });
    const points = fine.data[c.id][0].points as Point[];
    expect(points.length).toBeLessThanOrEqual(2000);
    expect(points.length).toBeGreaterThan(1950);
    expect((points[1] as Point).timestamp - (points[0] as Point).timestamp).toBe(44);
    const byDefault = await query(`/api/timeseries/cpu_usage_percent?since=${since}&until=${end}`);
    expect(byDefault.step).toBe(44);
    expect(byDefault.step_raised_from).toBeUndefined();
    expect(byDefault.data[c.id].length).toBeLessThanOrEqual(2000);
  });

  it("reads 5-minute and 1-hour rollups for coarse steps and joins recent raw points", async () => {
    const d = await fx.agent("host-d");
    const now = nowSeconds();
    // Raw points for the last hour; rollups cover the day before them (5 min) and 60 days before that (1 h).
    const rawStart = Math.floor(now / 300) * 300 - 3600;
    const counter = (t: number) => 1e9 + 10_000 * (t - (rawStart - 70 * 86_400));
    const raw = [];
    for (let t = rawStart; t <= now; t += 30) {
      raw.push({
        timestamp: t,
        metric_name: "network_receive_bytes_total",
        value: counter(t),
        labels: { interface: "eth0" },
      });
    }
    raw.push({ timestamp: now, metric_name: "ipmi_temp_celsius", value: 41, labels: { sensor: "CPU Temp" } });
    expect((await fx.push(d, { metrics: raw })).json().rejected).toEqual([]);
    const db = fx.server.ctx.database.db;
    const series = await db
      .selectFrom("metric_series")
      .select(["id", "metric_name"])
      .where("system_id", "=", d.id)
      .execute();
    const idOf = (name: string) => Number(series.find((s) => s.metric_name === name)?.id);
    const rollups = [];
    const fiveFrom = rawStart - 86_400;
    for (let bucket = fiveFrom; bucket < rawStart; bucket += 300) {
      const lastTs = bucket + 270;
      rollups.push({
        series_id: idOf("network_receive_bytes_total"),
        resolution: 300,
        bucket: bucket * 1000,
        count: 10,
        sum: 0,
        min: 0,
        max: 0,
        last: counter(lastTs),
        last_ts: lastTs * 1000,
      });
    }
    const hourTo = Math.floor(fiveFrom / 3600) * 3600;
    for (let bucket = hourTo - 60 * 86_400; bucket < hourTo; bucket += 3600) {
      const lastTs = bucket + 3570;
      rollups.push({
        series_id: idOf("network_receive_bytes_total"),
        resolution: 3600,
        bucket: bucket * 1000,
        count: 120,
        sum: 0,
        min: 0,
        max: 0,
        last: counter(lastTs),
        last_ts: lastTs * 1000,
      });
      rollups.push({
        series_id: idOf("ipmi_temp_celsius"),
        resolution: 3600,
        bucket: bucket * 1000,
        count: 120,
        sum: 120 * 42.5,
        min: 40,
        max: 45,
        last: 44,
        last_ts: lastTs * 1000,
      });
    }
    for (let i = 0; i < rollups.length; i += 500) {
      await db
        .insertInto("metric_rollups")
        .values(rollups.slice(i, i + 500))
        .execute();
    }

    const fiveSince = rawStart - 72_000;
    const five = await query(
      `/api/timeseries/network_receive_bytes_total/rate?since=${fiveSince}&until=${now}&step=600&systems=${d.id}`,
    );
    expect(five).toMatchObject({ source: "5m", window_seconds: 900, step: 600 });
    const fivePoints = five.data[d.id] as Point[];
    expect(fivePoints).toHaveLength(Math.floor((now - fiveSince) / 600) + 1);
    // Windows holding both rollup samples (every 300 s) and raw ones (every 30 s) are irregularly sampled, and
    // Prometheus' extrapolation is only exact for regular sampling; every other window gives the exact slope.
    const clean = fivePoints.filter((p) => p.timestamp < rawStart || p.timestamp >= rawStart + 900);
    expect(clean.length).toBeGreaterThan(fivePoints.length - 3);
    expectAll(clean, 10_000);
    expect(clean[clean.length - 1]?.timestamp).toBeGreaterThan(rawStart + 900);

    const hourSince = hourTo - 50 * 86_400;
    const hourUntil = hourTo - 2 * 86_400;
    const hour = await query(
      `/api/timeseries/network_receive_bytes_total/rate?since=${hourSince}&until=${hourUntil}&step=3600&systems=${d.id}`,
    );
    expect(hour).toMatchObject({ source: "1h", window_seconds: 7200 });
    expect(hour.data[d.id]).toHaveLength(48 * 24 + 1);
    expectAll(hour.data[d.id], 10_000);
    const gauge = await query(
      `/api/timeseries/ipmi_temp_celsius?since=${hourSince}&until=${hourUntil}&step=7200&systems=${d.id}`,
    );
    expect(gauge.source).toBe("1h");
    expect(gauge.data[d.id]).toHaveLength(24 * 24 + 1);
    expectAll(gauge.data[d.id], 42.5);

    // A fine step reaching beyond raw retention (30 days) reads rollups too.
    const old = await query(
      `/api/timeseries/ipmi_temp_celsius?since=${now - 40 * 86_400}&until=${now - 39 * 86_400}&step=60`,
    );
    expect(old.source).toBe("5m");
  });

  it("refuses bad parameters with a 400 naming them, and checks tokens", async () => {
    const bad: [string, RegExp][] = [
      ["/api/timeseries/up?since=yesterday", /^since must be unix seconds/],
      ["/api/timeseries/up?until=-5", /^until must be unix seconds/],
      ["/api/timeseries/up?since=200&until=100", /since must not be after until/],
      ["/api/timeseries/up?step=0", /^step must be a positive number/],
      ["/api/timeseries/up?aggregation=median", /^aggregation must be/],
      ["/api/timeseries/up/rate?window=5x", /^window must be a duration/],
      ["/api/timeseries/up/rate?fn=delta", /^fn must be rate, increase or irate/],
      ["/api/timeseries/up?window=5m", /window and fn apply to .*rate only/],
      ["/api/timeseries/up?seconds=60", /^unknown parameter seconds/],
      ["/api/timeseries/up?step=1&step=2", /^step is given more than once/],
      ["/api/timeseries/bad-name", /^metrics: metric_name "bad-name"/],
      [`/api/timeseries/up?labels=${encodeURIComponent("{nope")}`, /^labels is neither valid JSON/],
      [`/api/timeseries/up?labels=${encodeURIComponent("=x")}`, /^labels: "=x" is not name=value/],
      ["/api/timeseries/up?systems=,", /^systems must be a comma-separated list/],
    ];
    for (const [url, message] of bad) {
      const res = await fx.get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error).toBe("invalid_request");
      expect(res.json().message, url).toMatch(message);
    }
    expect((await fx.get("/api/timeseries/up", "")).statusCode).toBe(401);
    const enroll = `Bearer ${await createToken(fx.server.ctx.database.db, "e", "enroll")}`;
    expect((await fx.get("/api/timeseries/up/rate", enroll)).statusCode).toBe(403);
    expect((await fx.get(`/api/timeseries/up/rate?systems=${a.id}`)).json()).toMatchObject({ data: {}, clients: {} });
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS } from "../helpers/env.js";
import { nowSeconds, type TelemetryFixture, telemetryFixture } from "./fixture.js";

describe.each(DIALECTS)("POST /api/metrics on %s", (dialect) => {
  // One server per dialect with default settings (tests use their own systems), one with tight limits.
  let fx: TelemetryFixture;
  let tight: TelemetryFixture;
  beforeAll(async () => {
    fx = await telemetryFixture(dialect);
    tight = await telemetryFixture(dialect, (s) => {
      s.telemetry.max_series_per_system = 3;
      s.telemetry.max_rows_per_batch = 5;
    });
  });
  afterAll(async () => {
    await fx?.server.cleanup();
    await tight?.server.cleanup();
  });
  const db = () => fx.server.ctx.database.db;
  const counters = async (on: TelemetryFixture) => {
    const text = (await on.server.app.inject({ method: "GET", url: "/metrics" })).body;
    return [
      'fleetledger_telemetry_batches_total{result="unauthorized"}',
      'fleetledger_telemetry_batches_total{result="too_large"}',
      'fleetledger_telemetry_batches_total{result="invalid"}',
      'fleetledger_telemetry_batches_total{result="ok"}',
      'fleetledger_telemetry_samples_total{result="inserted"}',
      'fleetledger_telemetry_samples_total{result="rejected"}',
    ].map((name) => {
      const line = text.split("\n").find((l) => l.startsWith(`${name} `));
      return line ? Number(line.slice(name.length + 1)) : 0;
    });
  };
  const storedPoints = async (systemId: string, on = fx) =>
    (
      await on.server.ctx.database.db
        .selectFrom("metric_points")
        .innerJoin("metric_series", "metric_series.id", "metric_points.series_id")
        .select(["metric_series.metric_name", "metric_series.labels", "metric_points.ts", "metric_points.value"])
        .where("metric_series.system_id", "=", systemId)
        .orderBy("metric_series.metric_name")
        .orderBy("metric_series.labels")
        .orderBy("metric_points.ts")
        .execute()
    ).map((r) => ({ ...r, ts: Number(r.ts) }));

  it("stores good rows exactly, with canonical labels and millisecond times", async () => {
    const a = await fx.agent("gpu-01");
    const t = nowSeconds() - 60;
    const res = await fx.push(a, {
      metrics: [
        { timestamp: t + 0.123, metric_name: "cpu_usage_percent", value: 12.5, labels: null },
        { timestamp: t, metric_name: "gpu_temperature", value: 61, labels: { model: "A100", bus_id: 3, ecc: true } },
        { timestamp: t, metric_name: "disk_read_bytes_total", value: 18e12 + 123456789, labels: { device: "sda" } },
      ],
      logs: [{ log_source: "journal", log_timestamp: t + 0.5, content: "link up", severity: "INFO" }],
      hw_hash: null,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      received: 3,
      inserted: 3,
      logs_received: 1,
      logs_inserted: 1,
      rejected: [],
      logs_rejected: [],
    });
    expect(await storedPoints(a.id)).toEqual([
      { metric_name: "cpu_usage_percent", labels: "{}", ts: t * 1000 + 123, value: 12.5 },
      { metric_name: "disk_read_bytes_total", labels: '{"device":"sda"}', ts: t * 1000, value: 18e12 + 123456789 },
      {
        metric_name: "gpu_temperature",
        labels: '{"bus_id":"3","ecc":"true","model":"A100"}',
        ts: t * 1000,
        value: 61,
      },
    ]);
    const logs = await db().selectFrom("log_entries").selectAll().where("system_id", "=", a.id).execute();
    expect(logs.map((l) => ({ ...l, ts: Number(l.ts) }))).toEqual([
      {
        id: expect.any(Number),
        system_id: a.id,
        source: "journal",
        ts: t * 1000 + 500,
        severity: "INFO",
        content: "link up",
        received_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
  });

  it("stores the good rows of a mixed batch and names each bad one", async () => {
    const a = await fx.agent("gpu-01");
    const t = nowSeconds() - 10;
    const ok = (i: number) => ({ timestamp: t, metric_name: `m_${i}`, value: i, labels: {} });
    const manyLabels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, "x"]));
    const res = await fx.push(a, {
      metrics: [
        ok(0),
        { timestamp: t, metric_name: "bad-name", value: 1 },
        { timestamp: t, metric_name: "m_x", value: "5" },
        { timestamp: t, metric_name: "m_x", value: null },
        { timestamp: t + 3600, metric_name: "m_x", value: 1 },
        { timestamp: t - 31 * 86400, metric_name: "m_x", value: 1 },
        { timestamp: "yesterday", metric_name: "m_x", value: 1 },
        ok(7),
        { timestamp: t, metric_name: "m_x", value: 1, labels: ["a"] },
        { timestamp: t, metric_name: "m_x", value: 1, labels: { "bad-label": "x" } },
        { timestamp: t, metric_name: "m_x", value: 1, labels: manyLabels },
        { timestamp: t, metric_name: "m_x", value: 1, labels: { nested: { a: 1 } } },
        42,
        { timestamp: t, metric_name: "x".repeat(201), value: 1 },
        ok(14),
      ],
      logs: [
        { log_source: "dmesg", log_timestamp: t, content: "ok line", severity: null },
        { log_source: "", log_timestamp: t, content: "x" },
        { log_source: "dmesg", log_timestamp: t, content: "x", severity: "FATAL" },
        { log_source: "dmesg", log_timestamp: t + 3600, content: "x" },
        { log_source: "dmesg", log_timestamp: t - 8 * 86400, content: "x" },
        { log_source: "dmesg", log_timestamp: t, content: "" },
        { log_source: "syslog", log_timestamp: t, content: "second ok" },
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ received: 15, inserted: 3, logs_received: 7, logs_inserted: 2 });
    expect(body.rejected.map((r: { index: number }) => r.index)).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13]);
    const reason = (i: number) => body.rejected.find((r: { index: number }) => r.index === i).reason as string;
    expect(reason(1)).toContain('metric_name "bad-name" does not match');
    expect(reason(2)).toBe("value must be a finite number");
    expect(reason(3)).toBe("value must be a finite number");
    expect(reason(4)).toMatch(/^timestamp \d+ is \d+ s in the future \(at most 300 s allowed\)$/);
    expect(reason(5)).toContain("older than telemetry.metrics_days");
    expect(reason(6)).toBe("timestamp must be unix seconds (a number)");
    expect(reason(8)).toBe("labels must be an object or null");
    expect(reason(9)).toContain('label name "bad-label"');
    expect(reason(10)).toBe("more than 32 labels");
    expect(reason(11)).toContain('label "nested" must be');
    expect(reason(12)).toBe("row must be an object");
    expect(reason(13)).toBe("metric_name must be 1 to 200 characters");
    expect(body.logs_rejected.map((r: { index: number }) => r.index)).toEqual([1, 2, 3, 4, 5]);
    expect(body.logs_rejected[1].reason).toContain("severity must be one of");
    expect(body.logs_rejected[3].reason).toContain("older than telemetry.logs_days");
    expect((await storedPoints(a.id)).map((p) => [p.metric_name, p.value])).toEqual([
      ["m_0", 0],
      ["m_14", 14],
      ["m_7", 7],
    ]);
    const lines = await db()
      .selectFrom("log_entries")
      .select("content")
      .where("system_id", "=", a.id)
      .orderBy("id")
      .execute();
    expect(lines.map((l) => l.content)).toEqual(["ok line", "second ok"]);
  });

  it("refuses new series beyond max_series_per_system and keeps accepting known ones", async () => {
    const a = await tight.agent("a");
    const b = await tight.agent("b");
    const t = nowSeconds() - 30;
    const rows = (ts: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ timestamp: ts, metric_name: "fan_rpm", value: i, labels: { fan: i } }));
    const first = (await tight.push(a, { metrics: rows(t, 5) })).json();
    expect(first.inserted).toBe(3);
    expect(first.rejected).toEqual([3, 4].map((index) => ({ index, reason: expect.any(String) })));
    expect(first.rejected[0].reason).toBe(
      "system already has 3 series (telemetry.max_series_per_system); new series are refused",
    );
    const again = (await tight.push(a, { metrics: rows(t + 1, 3) })).json();
    expect(again).toMatchObject({ inserted: 3, rejected: [] });
    expect((await tight.push(b, { metrics: rows(t, 3) })).json()).toMatchObject({ inserted: 3, rejected: [] });
    const series = await tight.server.ctx.database.db
      .selectFrom("metric_series")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("system_id", "=", a.id)
      .executeTakeFirstOrThrow();
    expect(Number(series.n)).toBe(3);
  });

  it("overwrites on resend instead of duplicating, and keeps the later of two rows at one instant", async () => {
    const a = await fx.agent("a");
    const t = nowSeconds() - 100;
    const batch = {
      metrics: [
        { timestamp: t, metric_name: "load", value: 1 },
        { timestamp: t + 30, metric_name: "load", value: 2 },
      ],
    };
    expect((await fx.push(a, batch)).json()).toMatchObject({ inserted: 2, rejected: [] });
    expect((await fx.push(a, batch)).json()).toMatchObject({ inserted: 2, rejected: [] });
    batch.metrics[1] = { timestamp: t + 30, metric_name: "load", value: 5 };
    expect((await fx.push(a, batch)).json()).toMatchObject({ inserted: 2, rejected: [] });
    expect((await storedPoints(a.id)).map((p) => [p.ts, p.value])).toEqual([
      [t * 1000, 1],
      [(t + 30) * 1000, 5],
    ]);

    const dup = await fx.push(a, {
      metrics: [
        { timestamp: t + 60, metric_name: "load", value: 7 },
        { timestamp: t + 90, metric_name: "load", value: 8 },
        { timestamp: t + 60, metric_name: "load", value: 9 },
      ],
    });
    expect(dup.json()).toMatchObject({
      inserted: 2,
      rejected: [{ index: 0, reason: "same series and timestamp as row 2, which replaces it" }],
    });
    expect((await storedPoints(a.id)).map((p) => p.value)).toEqual([1, 5, 9, 8]);
  });

  it("answers 401, 400 and 413 with JSON and keeps serving", async () => {
    const fx = tight;
    const a = await fx.agent("c");
    const before = await counters(fx);
    const t = nowSeconds();
    const good = { metrics: [{ timestamp: t, metric_name: "up", value: 1 }] };
    const noAuth = await fx.server.app.inject({ method: "POST", url: "/api/metrics", payload: good });
    expect(noAuth.statusCode).toBe(401);
    expect(noAuth.json().error).toBe("unauthorized");
    expect((await fx.push("flc_FL-0000-0000-0000-0000_nope", good)).statusCode).toBe(401);
    expect((await fx.push(`${a.token}x`, good)).statusCode).toBe(401);
    expect((await fx.push(fx.admin.slice(7), good)).statusCode).toBe(401);

    const tooMany = await fx.push(a, {
      metrics: Array.from({ length: 4 }, () => good.metrics[0]),
      logs: [
        { log_source: "a", log_timestamp: t, content: "x" },
        { log_source: "a", log_timestamp: t, content: "y" },
      ],
    });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json()).toEqual({
      error: "payload_too_large",
      message: "the batch holds 6 metric and log rows; telemetry.max_rows_per_batch is 5",
    });

    for (const [payload, message] of [
      ["{not json", /not valid JSON/],
      ["[1,2]", /JSON object/],
      ['{"metrics":5}', /metrics must be an array/],
      ['{"metrics":[],"logs":"x"}', /logs must be an array/],
      ['{"metrics":[],"hw_hash":5}', /hw_hash/],
    ] as const) {
      const res = await fx.push(a, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(message);
    }
    expect(await storedPoints(a.id, fx)).toEqual([]);
    expect((await fx.push(a, good)).json()).toMatchObject({ inserted: 1 });

    const after = await counters(fx);
    expect(after.map((v, i) => v - (before[i] as number))).toEqual([4, 1, 5, 1, 1, 0]);
  });

  it("records when the agent was last seen and its hardware hash", async () => {
    const reg = await fx.server.app.inject({
      method: "POST",
      url: "/api/clients/register",
      headers: { authorization: fx.admin },
      payload: { hostname: "node-7", hw_hash: "hw-1" },
    });
    const { client_id, client_token } = reg.json();
    const t = nowSeconds();
    await fx.push(client_token, { metrics: [{ timestamp: t, metric_name: "up", value: 1 }], hw_hash: "hw-2" });
    const row = await db()
      .selectFrom("agent_clients")
      .select(["hw_hash", "last_seen_at"])
      .where("system_id", "=", client_id)
      .executeTakeFirstOrThrow();
    expect(row.hw_hash).toBe("hw-2");
    expect(Date.now() - Date.parse(row.last_seen_at as string)).toBeLessThan(10_000);
  });

  it("resolves many series of many systems in one batch each", async () => {
    const agents = await Promise.all([fx.agent("many-a"), fx.agent("many-b")]);
    const t = nowSeconds() - 30;
    const batch = (ts: number) => ({
      metrics: Array.from({ length: 1500 }, (_, i) => ({
        timestamp: ts,
        metric_name: `metric_${i % 3}`,
        value: i,
        labels: { n: i },
      })),
    });
    for (const agent of agents) {
      expect((await fx.push(agent, batch(t))).json()).toMatchObject({ inserted: 1500, rejected: [] });
      expect((await fx.push(agent, batch(t + 10))).json()).toMatchObject({ inserted: 1500, rejected: [] });
    }
    const ids = agents.map((a) => a.id);
    const counts = await db()
      .selectFrom("metric_series")
      .select(["system_id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("system_id", "in", ids)
      .groupBy("system_id")
      .execute();
    expect(counts.map((c) => Number(c.n))).toEqual([1500, 1500]);
    const points = await db()
      .selectFrom("metric_points")
      .innerJoin("metric_series", "metric_series.id", "metric_points.series_id")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("metric_series.system_id", "in", ids)
      .executeTakeFirstOrThrow();
    expect(Number(points.n)).toBe(6000);
  });

  it("commits concurrent batches together and fails only the batch that cannot be written", async () => {
    const agents = await Promise.all(["g1", "g2", "g3"].map((n) => fx.agent(n)));
    const doomed = await fx.agent("doomed");
    const t = nowSeconds() - 200;
    const batch = (k: number, name = "load") => ({
      metrics: [{ timestamp: t + k, metric_name: name, value: k, labels: { k: k % 2 } }],
    });
    expect((await fx.push(doomed, batch(0))).statusCode).toBe(200);
    // Its token stays cached; its new series can no longer reference the deleted system.
    await db()
      .deleteFrom("metric_points")
      .where("series_id", "in", db().selectFrom("metric_series").select("id").where("system_id", "=", doomed.id))
      .execute();
    await db().deleteFrom("metric_series").where("system_id", "=", doomed.id).execute();
    await db().deleteFrom("systems").where("id", "=", doomed.id).execute();

    const answers = await Promise.all([
      ...agents.flatMap((a) => Array.from({ length: 10 }, (_, k) => fx.push(a, batch(k)))),
      fx.push(doomed, batch(1, "other")),
    ]);
    expect(answers.slice(0, 30).map((r) => r.statusCode)).toEqual(Array(30).fill(200));
    expect(answers[30]?.statusCode).toBe(500);
    for (const a of agents)
      expect((await storedPoints(a.id)).map((p) => p.value)).toEqual([0, 2, 4, 6, 8, 1, 3, 5, 7, 9]);
  });
});

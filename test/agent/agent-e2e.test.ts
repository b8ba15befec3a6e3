import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent/agent.js";
import { type Credentials, loadCredentials } from "../../src/agent/credentials.js";
import { enrol } from "../../src/agent/enroll.js";
import { osExporter } from "../../src/agent/exporters/os.js";
import type { FactSources } from "../../src/agent/facts.js";
import { fileSource } from "../../src/agent/logs/file.js";
import { flakyProxy, type LiveServer, liveServer, silent, tempDir, testConfig } from "./helpers.js";

const FACTS: FactSources = {
  os: {
    distro: "Debian GNU/Linux",
    release: "12",
    codename: "bookworm",
    kernel: "6.1.0-21-amd64",
    arch: "x64",
    hostname: "gpu-node-07",
  },
  cpu: {
    manufacturer: "AMD",
    brand: "EPYC 7543",
    cores: 64,
    physicalCores: 32,
    processors: 1,
    speedMax: 3.7,
    speed: 2.8,
  },
  mem: { total: 67_347_234_816, swaptotal: 8_589_930_496 },
  system: {
    manufacturer: "Supermicro",
    model: "AS-2014CS-TR",
    serial: "S4123456X",
    uuid: "00000000-0000-0000-0000-3CECEF123456",
    virtual: false,
  },
  interfaces: [
    {
      iface: "enp65s0f0",
      mac: "3c:ec:ef:12:34:56",
      ip4: "10.0.4.17",
      ip6: "",
      speed: 10000,
      internal: false,
      virtual: false,
    },
  ],
  disks: [
    {
      device: "/dev/nvme0n1",
      type: "NVMe",
      name: "Samsung SSD 980 PRO 2TB",
      vendor: "Samsung",
      size: 2_000_398_934_016,
      serialNum: "S6B0NL0T123456",
    },
  ],
  gpus: [{ vendor: "NVIDIA", model: "GeForce RTX 4090", vram: 24564, busAddress: "01:00.0" }],
};

describe("agent against a real Fleetledger server", () => {
  let server: LiveServer;
  const state = tempDir("fleetledger-agent-e2e-");
  let credentials: Credentials;

  beforeAll(async () => {
    server = await liveServer();
    const result = await enrol({
      server: server.url,
      token: server.enrolToken,
      stateDir: join(state.dir, "state"),
      machineId: "4f1e2d3c4b5a69788796a5b4c3d2e1f0",
      hwHash: "hw-e2e",
    });
    credentials = result.credentials;
  });
  afterAll(async () => {
    await server.close();
    state.remove();
  });

  it("enrols: credentials 0600 in a 0700 state dir, the client registered with its machine id", async () => {
    const stateDir = join(state.dir, "state");
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(stateDir, "credentials.json")).mode & 0o777).toBe(0o600);
    expect(loadCredentials(stateDir)).toEqual(credentials);
    expect(credentials.client_token).toBe(`flc_${credentials.system_key}_${credentials.system_secret}`);
    const row = await server.env.ctx.database.db
      .selectFrom("agent_clients")
      .select(["machine_id", "hw_hash"])
      .where("system_id", "=", credentials.client_id)
      .executeTakeFirst();
    expect(row).toEqual({ machine_id: "4f1e2d3c4b5a69788796a5b4c3d2e1f0", hw_hash: "hw-e2e" });
  });

  it("refuses a wrong enrolment token with the server's reason", async () => {
    await expect(
      enrol({ server: server.url, token: "nope", stateDir: join(state.dir, "other"), machineId: null, hwHash: null }),
    ).rejects.toThrow(/refused the registration \(HTTP 401\)/);
  });

  it("pushes metrics, file logs, a heartbeat and the inventory; log lines are stored once", async () => {
    const logFile = join(state.dir, "app.log");
    writeFileSync(logFile, "");
    const config = testConfig(join(state.dir, "state"), { labels: { rack: "r7" } });
    const agent = new Agent({
      config,
      credentials,
      serverUrl: server.url,
      log: silent,
      exporters: [osExporter()],
      logSources: [fileSource("file:app", logFile)],
      readFacts: async () => FACTS,
    });
    await agent.start();
    expect(await agent.checkInventory()).toBe("sent");
    expect(await agent.checkInventory()).toBe("unchanged");
    expect(await agent.heartbeat()).toBe(true);

    appendFileSync(logFile, "job 1 started\nERROR: job 1 failed: disk full\npartial line without newl");
    const first = await agent.runOnce();
    expect(first.spooled).toBe(0);
    expect(first.logs).toBe(2);
    appendFileSync(logFile, "ine\n");
    const second = await agent.runOnce();
    expect(second.logs).toBe(1);
    await agent.stop();

    const db = server.env.ctx.database.db;
    const systemId = credentials.client_id;
    const logs = await db
      .selectFrom("log_entries")
      .select(["source", "severity", "content"])
      .where("system_id", "=", systemId)
      .orderBy("id")
      .execute();
    expect(logs).toEqual([
      { source: "file:app", severity: null, content: "job 1 started" },
      { source: "file:app", severity: "ERROR", content: "ERROR: job 1 failed: disk full" },
      { source: "file:app", severity: null, content: "partial line without newline" },
    ]);
    const series = await db
      .selectFrom("metric_series")
      .select(["metric_name", "labels"])
      .where("system_id", "=", systemId)
      .execute();
    const names = new Set(series.map((s) => s.metric_name));
    for (const name of [
      "cpu_load_1m",
      "cpu_usage_percent",
      "memory_total_bytes",
      "memory_usage_percent",
      "agent_spool_dropped_batches_total",
    ]) {
      expect(names).toContain(name);
    }
    expect(series.every((s) => JSON.parse(s.labels).rack === "r7")).toBe(true);
    const points = await db
      .selectFrom("metric_points")
      .innerJoin("metric_series", "metric_series.id", "metric_points.series_id")
      .select(["metric_points.value"])
      .where("metric_series.system_id", "=", systemId)
      .where("metric_series.metric_name", "=", "memory_total_bytes")
      .execute();
    const meminfo = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    expect(points.map((p) => Number(p.value))).toEqual([Number(meminfo?.[1]) * 1024, Number(meminfo?.[1]) * 1024]);

    const record = await db
      .selectFrom("inventory_records")
      .innerJoin("inventory_documents", "inventory_documents.record_id", "inventory_records.id")
      .select(["inventory_documents.data"])
      .where("inventory_records.system_id", "=", systemId)
      .execute();
    expect(record).toHaveLength(1);
    const facts = JSON.parse(record[0]?.data as string).facts;
    expect(facts.distro).toEqual({ name: "Debian GNU/Linux", version: "12", codename: "bookworm" });
    expect(facts.product.uuid).toBe("00000000-0000-0000-0000-3cecef123456");
    const system = await db
      .selectFrom("systems")
      .select(["last_heartbeat_at"])
      .where("id", "=", systemId)
      .executeTakeFirst();
    expect(system?.last_heartbeat_at).not.toBeNull();
  });

  it("spools while the server is down, then delivers in order; cursors move only on acknowledgement", async () => {
    const proxy = await flakyProxy(server.url);
    const logFile = join(state.dir, "spooled.log");
    writeFileSync(logFile, "");
    let clock = Date.now();
    const agent = new Agent({
      config: testConfig(join(state.dir, "state2")),
      credentials,
      serverUrl: proxy.url,
      log: silent,
      exporters: [],
      logSources: [fileSource("file:spooled", logFile)],
      now: () => clock,
      random: () => 0,
    });
    try {
      await agent.start();
      proxy.mode = "503";
      appendFileSync(logFile, "line 1\n");
      expect((await agent.runOnce()).spooled).toBe(1);
      expect(agent.committedCursors()["file:spooled"]).toBeUndefined();
      proxy.mode = "down";
      clock += 2_000; // past Retry-After: 1
      appendFileSync(logFile, "line 2\n");
      expect((await agent.runOnce()).spooled).toBe(2);
      expect(agent.committedCursors()["file:spooled"]).toBeUndefined();
      // The backoff holds the third batch back without a request.
      const before = proxy.seen.length;
      appendFileSync(logFile, "line 3\n");
      expect((await agent.runOnce()).spooled).toBe(3);
      expect(proxy.seen.length).toBe(before);

      proxy.mode = "forward";
      clock += 60_000;
      expect(await agent.outbox.flush()).toBe(3);
      expect(agent.spool.count).toBe(0);
      expect(JSON.parse(agent.committedCursors()["file:spooled"] as string).offset).toBe(21);
    } finally {
      await agent.stop();
      await proxy.close();
    }
    const logs = await server.env.ctx.database.db
      .selectFrom("log_entries")
      .select(["content"])
      .where("source", "=", "file:spooled")
      .orderBy("id")
      .execute();
    expect(logs.map((l) => l.content)).toEqual(["line 1", "line 2", "line 3"]);
    const pushes = proxy.seen.filter((s) => s.startsWith("POST /api/metrics"));
    expect(pushes).toEqual([
      "POST /api/metrics 503",
      "POST /api/metrics down",
      "POST /api/metrics forward",
      "POST /api/metrics forward",
      "POST /api/metrics forward",
    ]);
  });

  it("after a restart resumes reading after the spooled lines instead of reading them twice", async () => {
    const proxy = await flakyProxy(server.url);
    const logFile = join(state.dir, "restart.log");
    writeFileSync(logFile, "");
    const stateDir = join(state.dir, "state3");
    const make = (url: string) =>
      new Agent({
        config: testConfig(stateDir),
        credentials,
        serverUrl: url,
        log: silent,
        exporters: [],
        logSources: [fileSource("file:restart", logFile)],
      });
    proxy.mode = "503";
    const first = make(proxy.url);
    await first.start();
    appendFileSync(logFile, "before restart\n");
    await first.runOnce();
    await first.stop();
    await proxy.close();

    const second = make(server.url);
    await second.start();
    expect(second.spool.count).toBe(1);
    appendFileSync(logFile, "after restart\n");
    const report = await second.runOnce();
    expect(report).toMatchObject({ logs: 1, spooled: 0 });
    await second.stop();
    const logs = await server.env.ctx.database.db
      .selectFrom("log_entries")
      .select(["content"])
      .where("source", "=", "file:restart")
      .orderBy("id")
      .execute();
    expect(logs.map((l) => l.content)).toEqual(["before restart", "after restart"]);
  });

  it("drops a batch the server refuses (400), counts it, moves the cursor and reports the counter next time", async () => {
    const proxy = await flakyProxy(server.url);
    const logFile = join(state.dir, "refused.log");
    writeFileSync(logFile, "");
    const stateDir = join(state.dir, "state4");
    const agent = new Agent({
      config: testConfig(stateDir),
      credentials,
      serverUrl: proxy.url,
      log: silent,
      exporters: [],
      logSources: [fileSource("file:refused", logFile)],
    });
    try {
      await agent.start();
      proxy.mode = "400";
      appendFileSync(logFile, "refused line\n");
      expect((await agent.runOnce()).spooled).toBe(0);
      expect(JSON.parse(readFileSync(join(stateDir, "counters.json"), "utf8"))).toEqual({
        dropped_batches: 0,
        refused_batches: 1,
      });
      expect(JSON.parse(agent.committedCursors()["file:refused"] as string).offset).toBe(13);
      proxy.mode = "forward";
      expect((await agent.runOnce()).logs).toBe(0);
    } finally {
      await agent.stop();
      await proxy.close();
    }
    const refused = await server.env.ctx.database.db
      .selectFrom("metric_points")
      .innerJoin("metric_series", "metric_series.id", "metric_points.series_id")
      .select(["metric_points.value"])
      .where("metric_series.system_id", "=", credentials.client_id)
      .where("metric_series.metric_name", "=", "agent_refused_batches_total")
      .execute();
    // Earlier batches of this client reported 0; the one after the refusal reports 1.
    expect(refused.map((p) => Number(p.value))).toContain(1);
  });
});

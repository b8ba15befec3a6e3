import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DB } from "../../src/db/types.js";
import { iso } from "../../src/lib/time.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import {
  cpuSensors,
  getHost,
  type HostFilter,
  hostReadings,
  hostReadingsBySystem,
  type LatestPoint,
  listHosts,
  logSources,
} from "../../src/web/telemetry-queries.js";
import { createTestEnv, DIALECTS, type TestEnv } from "../helpers/env.js";

const NOW = Date.parse("2025-03-10T12:00:00.000Z");
const MIN = 60_000;
const ONLINE_SINCE = new Date(NOW - 5 * MIN);
const all: HostFilter = { org: undefined, status: undefined, offset: 0, limit: 100 };

describe.each(DIALECTS)("telemetry queries for the dashboard (%s)", (dialect) => {
  let env: TestEnv;
  let db: Kysely<DB>;
  const ids: Record<string, string> = {};
  let acmeId: string;
  let seriesId = 0;

  async function series(systemId: string, metric: string, labels: Record<string, string>, points: [number, number][]) {
    const row = await db
      .insertInto("metric_series")
      .values({ system_id: systemId, metric_name: metric, labels: JSON.stringify(labels), created_at: iso(NOW) })
      .returning("id")
      .executeTakeFirstOrThrow();
    seriesId = Number(row.id);
    await db
      .insertInto("metric_points")
      .values(points.map(([ts, value]) => ({ series_id: seriesId, ts, value })))
      .execute();
  }

  async function agent(systemId: string, hostname: string, lastSeen: number | null) {
    await db
      .insertInto("agent_clients")
      .values({
        system_id: systemId,
        hostname,
        hw_hash: null,
        machine_id: null,
        agent_version: "0.1.0",
        registered_at: iso(NOW - 86_400_000),
        last_seen_at: lastSeen === null ? null : iso(lastSeen),
      })
      .execute();
  }

  beforeAll(async () => {
    env = await createTestEnv(dialect);
    db = env.ctx.database.db;
    acmeId = (await createOrganization(db, "Acme")).id;
    await createOrganization(db, "Globex");
    for (const [org, name] of [
      ["Acme", "gpu-01"],
      ["Acme", "gpu-02"],
      ["Globex", "metrics-only"],
      ["Globex", "never-seen"],
      ["Acme", "inventory-only"],
    ] as const) {
      ids[name] = (await createSystem(db, org, name)).id;
    }
    await agent(ids["gpu-01"] as string, "gpu-01.lab", NOW - MIN);
    await agent(ids["gpu-02"] as string, "gpu-02.lab", NOW - 10 * MIN);
    await agent(ids["never-seen"] as string, "fresh.lab", null);

    const gpu1 = ids["gpu-01"] as string;
    await series(gpu1, "gpu_temperature", { bus_id: "0000:01:00.0", model: "RTX 4090" }, [
      [NOW - 2 * MIN, 91],
      [NOW - MIN, 85],
    ]);
    await series(gpu1, "gpu_temperature", { bus_id: "0000:02:00.0", model: "RTX 4090" }, [[NOW - MIN, 60]]);
    // A GPU that stopped reporting an hour ago no longer counts, hot as it was.
    await series(gpu1, "gpu_temperature", { bus_id: "0000:03:00.0", model: "RTX 4090" }, [[NOW - 60 * MIN, 99]]);
    await series(gpu1, "gpu_power_draw", { bus_id: "0000:01:00.0", model: "RTX 4090" }, [[NOW - MIN, 310.5]]);
    await series(gpu1, "gpu_power_draw", { bus_id: "0000:02:00.0", model: "RTX 4090" }, [[NOW - MIN, 120]]);
    await series(gpu1, "ipmi_temp_celsius", { sensor: "CPU1 Temp" }, [[NOW - MIN, 70]]);
    await series(gpu1, "ipmi_temp_celsius", { sensor: "CPU2 Temp" }, [[NOW - MIN, 72]]);
    await series(gpu1, "ipmi_temp_celsius", { sensor: "CPU1 VRM Temp" }, [[NOW - MIN, 95]]);
    await series(gpu1, "ipmi_temp_celsius", { sensor: "System Temp" }, [[NOW - MIN, 40]]);
    await series(gpu1, "nvme_temperature_celsius", { device: "nvme0" }, [[NOW - MIN, 48]]);
    await series(gpu1, "nvme_temperature_celsius", { device: "nvme1" }, [[NOW - MIN, 55]]);
    await series(gpu1, "cpu_usage_percent", {}, [[NOW - MIN, 93.5]]);
    await series(gpu1, "memory_usage_percent", {}, [[NOW - MIN, 41]]);
    await series(gpu1, "fs_used_bytes", { mountpoint: "/" }, [[NOW - MIN, 80e9]]);
    await series(gpu1, "fs_total_bytes", { mountpoint: "/" }, [[NOW - MIN, 100e9]]);
    await series(gpu1, "fs_used_bytes", { mountpoint: "/data" }, [[NOW - MIN, 1]]);
    await series(gpu1, "fs_total_bytes", { mountpoint: "/data" }, [[NOW - MIN, 1000]]);
    // Not a table metric: must not show up anywhere.
    await series(gpu1, "cpu_load_1m", {}, [[NOW - MIN, 7]]);

    const gpu2 = ids["gpu-02"] as string;
    await series(gpu2, "memory_used_bytes", {}, [[NOW - 10 * MIN, 48e9]]);
    await series(gpu2, "memory_total_bytes", {}, [[NOW - 10 * MIN, 64e9]]);

    await series(ids["metrics-only"] as string, "cpu_usage_percent", {}, [
      [NOW - 30 * MIN, 5],
      [NOW - 2 * MIN, 12],
    ]);

    const lines = [
      { source: "journal", ts: NOW - 3 * MIN, severity: "INFO", content: "Started nvidia-persistenced" },
      { source: "dmesg", ts: NOW - 2 * MIN, severity: "ERROR", content: "NVRM: Xid 79, GPU has fallen off the bus" },
      { source: "journal", ts: NOW - MIN, severity: "WARN", content: "disk usage at 100% on /" },
      { source: "journal", ts: NOW - MIN, severity: "WARN", content: "disk usage at 1000 on /data" },
      { source: "syslog", ts: NOW, severity: null, content: "cron: job done" },
    ];
    await db
      .insertInto("log_entries")
      .values(lines.map((l) => ({ ...l, system_id: gpu1, received_at: iso(NOW) })))
      .execute();
    await db
      .insertInto("log_entries")
      .values({
        system_id: gpu2,
        source: "vast",
        ts: NOW,
        severity: "INFO",
        content: "other host",
        received_at: iso(NOW),
      })
      .execute();
  });

  afterAll(async () => {
    await env?.cleanup();
  });

  const names = (hosts: { name: string }[]) => hosts.map((h) => h.name);

  it("lists systems with an agent or metrics, by name, with when each was last seen", async () => {
    const hosts = await listHosts(db, all, ONLINE_SINCE);
    expect(names(hosts)).toEqual(["gpu-01", "gpu-02", "metrics-only", "never-seen"]);
    const byName = new Map(hosts.map((h) => [h.name, h]));
    expect(byName.get("gpu-01")).toMatchObject({
      hostname: "gpu-01.lab",
      org_name: "Acme",
      agent_version: "0.1.0",
      last_seen_at: iso(NOW - MIN),
    });
    // Without a registration the newest point says when the host was last heard from.
    expect(byName.get("metrics-only")).toMatchObject({
      hostname: null,
      org_name: "Globex",
      registered_at: null,
      last_seen_at: iso(NOW - 2 * MIN),
    });
    expect(byName.get("never-seen")?.last_seen_at).toBeNull();
  });

  it("filters by online status, organization and pages", async () => {
    const online = await listHosts(db, { ...all, status: "online" }, ONLINE_SINCE);
    expect(names(online)).toEqual(["gpu-01", "metrics-only"]);
    const offline = await listHosts(db, { ...all, status: "offline" }, ONLINE_SINCE);
    expect(names(offline)).toEqual(["gpu-02", "never-seen"]);
    expect(names(await listHosts(db, { ...all, org: acmeId }, ONLINE_SINCE))).toEqual(["gpu-01", "gpu-02"]);
    expect(names(await listHosts(db, { ...all, offset: 1, limit: 2 }, ONLINE_SINCE))).toEqual([
      "gpu-02",
      "metrics-only",
    ]);
    expect(names(await listHosts(db, { ...all, org: acmeId, status: "online" }, ONLINE_SINCE))).toEqual(["gpu-01"]);
  });

  it("finds any system by id, agent or not", async () => {
    expect((await getHost(db, ids["gpu-02"] as string))?.hostname).toBe("gpu-02.lab");
    expect(await getHost(db, ids["inventory-only"] as string)).toMatchObject({ hostname: null, last_seen_at: null });
    expect(await getHost(db, "no-such-id")).toBeUndefined();
  });

  it("reads each host's current readings from the newest point of each series", async () => {
    const readings = await hostReadingsBySystem(db, Object.values(ids));
    expect(readings.get(ids["gpu-01"] as string)).toEqual({
      cpu_temp: 72,
      gpu_temp: 85,
      nvme_temp: 55,
      gpu_power: 430.5,
      cpu_percent: 93.5,
      ram_percent: 41,
      disk_percent: 80,
    });
    expect(readings.get(ids["gpu-02"] as string)).toEqual({ ram_percent: 75 });
    expect(readings.get(ids["metrics-only"] as string)).toEqual({ cpu_percent: 12 });
    expect(readings.has(ids["never-seen"] as string)).toBe(false);
    expect(await hostReadingsBySystem(db, [])).toEqual(new Map());
  });

  it("names a host's CPU temperature sensors for its chart, leaving out VRM and board sensors", async () => {
    expect(await cpuSensors(db, ids["gpu-01"] as string)).toEqual(["CPU1 Temp", "CPU2 Temp"]);
    expect(await cpuSensors(db, ids["gpu-02"] as string)).toEqual([]);
  });

  it("lists the sources of a host's log lines", async () => {
    expect(await logSources(db, ids["gpu-01"] as string)).toEqual(["dmesg", "journal", "syslog"]);
    expect(await logSources(db, ids["never-seen"] as string)).toEqual([]);
  });
});

describe("hostReadings", () => {
  const point = (metric_name: string, labels: Record<string, string>, value: number, ts = NOW): LatestPoint => ({
    system_id: "s",
    metric_name,
    labels: JSON.stringify(labels),
    ts,
    value,
  });

  it("prefers memory_usage_percent and ignores non-finite values and unparsable labels", () => {
    expect(
      hostReadings([
        point("memory_usage_percent", {}, 30),
        point("memory_used_bytes", {}, 90),
        point("memory_total_bytes", {}, 100),
        point("gpu_temperature", {}, Number.NaN),
        { ...point("ipmi_temp_celsius", {}, 99), labels: "not json" },
      ]),
    ).toEqual({ ram_percent: 30 });
  });

  it("leaves the disk out when the root filesystem reports no size", () => {
    expect(
      hostReadings([point("fs_used_bytes", { mountpoint: "/" }, 5), point("fs_total_bytes", { mountpoint: "/" }, 0)]),
    ).toEqual({});
  });
});

import { type Expression, type Kysely, type SqlBool, sql } from "kysely";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";

export const HOST_STATUSES = ["online", "offline"] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];

export interface HostFilter {
  org: string | undefined;
  status: HostStatus | undefined;
  offset: number;
  limit: number;
}

export interface HostSummary {
  id: string;
  name: string;
  org_id: string;
  org_name: string;
  /** From the agent's registration; null for a system that pushes metrics without having registered an agent. */
  hostname: string | null;
  agent_version: string | null;
  registered_at: string | null;
  /** ISO time the agent was last heard from, or of its newest metric point when it never registered. */
  last_seen_at: string | null;
}

// A registered agent's last_seen_at is kept by ingest; only a system without a registration needs its newest point,
// found as the largest per-series maximum so each series costs one probe of the (series_id, ts) key.
const newestPointMs = sql<number | null>`(select max((select max(p.ts) from metric_points p where p.series_id = ms.id))
  from metric_series ms where ms.system_id = systems.id)`;

const lastPointMs = sql<number | null>`case when agent_clients.last_seen_at is null then ${newestPointMs} end`;

/** True when the host was seen at or after `cutoff`; the CASE keeps the point lookup off registered agents. */
function seenSince(cutoff: Date): Expression<SqlBool> {
  return sql<SqlBool>`(case when agent_clients.last_seen_at is not null
    then (case when agent_clients.last_seen_at >= ${iso(cutoff)} then 1 else 0 end)
    else (case when ${newestPointMs} >= ${cutoff.getTime()} then 1 else 0 end) end) = 1`;
}

function hostsQuery(db: Kysely<DB>) {
  return db
    .selectFrom("systems")
    .innerJoin("organizations", "organizations.id", "systems.org_id")
    .leftJoin("agent_clients", "agent_clients.system_id", "systems.id")
    .select([
      "systems.id as id",
      "systems.name as name",
      "systems.org_id as org_id",
      "organizations.name as org_name",
      "agent_clients.hostname as hostname",
      "agent_clients.agent_version as agent_version",
      "agent_clients.registered_at as registered_at",
      "agent_clients.last_seen_at as seen_at",
      lastPointMs.as("last_point_ms"),
    ]);
}

type HostRow = Omit<HostSummary, "last_seen_at"> & { seen_at: string | null; last_point_ms: number | null };

function summary({ seen_at, last_point_ms, ...row }: HostRow): HostSummary {
  return { ...row, last_seen_at: seen_at ?? (last_point_ms === null ? null : iso(Number(last_point_ms))) };
}

/**
 * Hosts are the systems that registered an agent or pushed metrics. `onlineSince` is the cutoff of the status filter:
 * a host seen at or after it is online.
 */
export async function listHosts(db: Kysely<DB>, filter: HostFilter, onlineSince: Date): Promise<HostSummary[]> {
  let query = hostsQuery(db)
    .where((eb) =>
      eb.or([
        eb("agent_clients.system_id", "is not", null),
        eb.exists(
          eb
            .selectFrom("metric_series")
            .select("metric_series.id")
            .whereRef("metric_series.system_id", "=", "systems.id"),
        ),
      ]),
    )
    .orderBy("systems.name")
    .orderBy("systems.id")
    .limit(filter.limit)
    .offset(filter.offset);
  if (filter.org) query = query.where("systems.org_id", "=", filter.org);
  if (filter.status === "online") query = query.where(seenSince(onlineSince));
  if (filter.status === "offline") query = query.where((eb) => eb.not(seenSince(onlineSince)));
  return (await query.execute()).map(summary);
}

/** Any system, with its agent's registration when it has one. */
export async function getHost(db: Kysely<DB>, id: string): Promise<HostSummary | undefined> {
  const row = await hostsQuery(db).where("systems.id", "=", id).executeTakeFirst();
  return row && summary(row);
}

/** The metrics the Hosts table reads; anything else a host sends stays out of its query. */
export const TABLE_METRICS = [
  "ipmi_temp_celsius",
  "gpu_temperature",
  "nvme_temperature_celsius",
  "gpu_power_draw",
  "cpu_usage_percent",
  "memory_usage_percent",
  "memory_used_bytes",
  "memory_total_bytes",
  "fs_used_bytes",
  "fs_total_bytes",
] as const;

export interface LatestPoint {
  system_id: string;
  metric_name: string;
  /** Canonical JSON of the series' labels. */
  labels: string;
  /** Unix milliseconds. */
  ts: number;
  value: number;
}

/** The newest point of every series of TABLE_METRICS of the given systems, in one query. */
export async function latestPoints(db: Kysely<DB>, systemIds: readonly string[]): Promise<LatestPoint[]> {
  if (systemIds.length === 0) return [];
  const rows = await db
    .selectFrom("metric_series as s")
    .innerJoin("metric_points as p", "p.series_id", "s.id")
    .select(["s.system_id", "s.metric_name", "s.labels", "p.ts", "p.value"])
    .where("s.system_id", "in", systemIds)
    .where("s.metric_name", "in", TABLE_METRICS)
    .where("p.ts", "=", (eb) =>
      eb
        .selectFrom("metric_points as q")
        .select((q) => q.fn.max("q.ts").as("ts"))
        .whereRef("q.series_id", "=", "s.id"),
    )
    .execute();
  return rows.map((r) => ({ ...r, ts: Number(r.ts), value: Number(r.value) }));
}

export interface HostReadings {
  cpu_temp?: number;
  gpu_temp?: number;
  nvme_temp?: number;
  /** Sum over all GPUs, watts. */
  gpu_power?: number;
  cpu_percent?: number;
  ram_percent?: number;
  /** Used share of the filesystem mounted at "/". */
  disk_percent?: number;
}

/**
 * A series whose newest point is this much older than its host's newest one stopped reporting (a GPU pulled, a disk
 * unmounted); its last value is no longer the host's current state.
 */
export const STALE_SERIES_MS = 10 * 60_000;

// IPMI names its CPU sensors "CPU Temp", "CPU1 Temp", "CPU2 Temp" and the like; board, DIMM and VRM sensors
// ("CPU1 VRM Temp" included) are other families the table does not show.
const CPU_SENSOR = /^cpu\d*[ _]?temp/i;

export const isCpuSensor = (sensor: unknown): sensor is string => typeof sensor === "string" && CPU_SENSOR.test(sensor);

function parseLabels(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const max = (values: number[]) => (values.length === 0 ? undefined : Math.max(...values));
const sum = (values: number[]) => (values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0));
const percent = (part: number | undefined, whole: number | undefined) =>
  part === undefined || whole === undefined || whole <= 0 ? undefined : (part / whole) * 100;

/**
 * The table's readings of one host from its series' newest points: the hottest sensor of each temperature family,
 * the GPUs' power summed, and the root filesystem's fill. Pure.
 */
export function hostReadings(points: readonly LatestPoint[]): HostReadings {
  const newest = Math.max(...points.map((p) => p.ts));
  const values = new Map<string, number[]>();
  const add = (key: string, value: number) => {
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  };
  for (const point of points) {
    if (point.ts < newest - STALE_SERIES_MS || !Number.isFinite(point.value)) continue;
    const labels = parseLabels(point.labels);
    if (point.metric_name === "ipmi_temp_celsius") {
      if (isCpuSensor(labels.sensor)) add("cpu_temp", point.value);
    } else if (point.metric_name === "fs_used_bytes" || point.metric_name === "fs_total_bytes") {
      if (labels.mountpoint === "/") add(point.metric_name, point.value);
    } else {
      add(point.metric_name, point.value);
    }
  }
  const one = (key: string) => values.get(key)?.[0];
  const readings: HostReadings = {
    cpu_temp: max(values.get("cpu_temp") ?? []),
    gpu_temp: max(values.get("gpu_temperature") ?? []),
    nvme_temp: max(values.get("nvme_temperature_celsius") ?? []),
    gpu_power: sum(values.get("gpu_power_draw") ?? []),
    cpu_percent: one("cpu_usage_percent"),
    ram_percent: one("memory_usage_percent") ?? percent(one("memory_used_bytes"), one("memory_total_bytes")),
    disk_percent: percent(one("fs_used_bytes"), one("fs_total_bytes")),
  };
  return Object.fromEntries(Object.entries(readings).filter(([, v]) => v !== undefined)) as HostReadings;
}

/** Readings per system id; a system without points has none. */
export async function hostReadingsBySystem(
  db: Kysely<DB>,
  systemIds: readonly string[],
): Promise<Map<string, HostReadings>> {
  const bySystem = new Map<string, LatestPoint[]>();
  for (const point of await latestPoints(db, systemIds)) {
    const list = bySystem.get(point.system_id);
    if (list) list.push(point);
    else bySystem.set(point.system_id, [point]);
  }
  return new Map([...bySystem].map(([id, points]) => [id, hostReadings(points)]));
}

/** The sources a host's stored lines come from, for the filter's choices. */
export async function logSources(db: Kysely<DB>, systemId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("log_entries")
    .select("source")
    .distinct()
    .where("system_id", "=", systemId)
    .orderBy("source")
    .execute();
  return rows.map((r) => r.source);
}

/** The names of a host's IPMI CPU temperature sensors, which its temperature chart filters on. */
export async function cpuSensors(db: Kysely<DB>, systemId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("metric_series")
    .select("labels")
    .where("system_id", "=", systemId)
    .where("metric_name", "=", "ipmi_temp_celsius")
    .execute();
  return rows
    .map((r) => parseLabels(r.labels).sensor)
    .filter(isCpuSensor)
    .sort();
}

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import pino from "pino";
import { type AppContext, createContext } from "../../src/app/context.js";
import { indexEvent } from "../../src/cloudfoundry/billing.js";
import { MAX_FETCH_LIMIT } from "../../src/cloudfoundry/collector.js";
import { normalizeEntity } from "../../src/cloudfoundry/events.js";
import { cfEventStore } from "../../src/cloudfoundry/store.js";
import { clientFor, syncOnce } from "../../src/cloudfoundry/sync.js";
import { loadSettings } from "../../src/config/load.js";
import type { Dialect } from "../../src/db/connect.js";
import { SIM_DEFAULTS } from "../../src/sim/cloudfoundry.js";
import { childEnv, cpuSeconds } from "../lib/fleetledger.js";
import { configurePricing, type FoundationOptions, type Loaded } from "./foundation.js";
import type { FromSim, SimUsage, ToSim } from "./sim-process.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SIM_PROCESS = fileURLToPath(new URL("./sim-process.ts", import.meta.url));
const MB = 1024 * 1024;

export interface SimProcess {
  pid: number;
  url: string;
  loaded: Loaded;
  rss_mb: number;
  usage(): Promise<SimUsage>;
  stop(): Promise<void>;
}

/** Starts the simulator in a child process and waits until it holds the whole history. */
export async function startSimProcess(options: FoundationOptions): Promise<SimProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", SIM_PROCESS, JSON.stringify(options)], {
    cwd: REPO,
    env: childEnv({}),
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const next = <T extends FromSim["type"]>(type: T): Promise<Extract<FromSim, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: FromSim) => {
        if (message.type !== type && message.type !== "failed") return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        if (message.type === "failed") reject(new Error(`the simulator failed: ${message.error}`));
        else resolve(message as Extract<FromSim, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`the simulator exited (${code}) before "${type}"`));
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  const tell = (message: ToSim) => child.send(message);

  const ready = await next("ready");
  return {
    pid: child.pid ?? -1,
    url: ready.url,
    loaded: ready.loaded,
    rss_mb: Math.round(ready.rss_bytes / MB),
    async usage() {
      const answer = next("usage");
      tell({ type: "usage" });
      return (await answer).usage;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      tell({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface BenchDatabase {
  ctx: AppContext;
  dialect: Dialect;
  cleanup(): Promise<void>;
}

async function pgAdmin(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Says why PostgreSQL cannot be used, or undefined when it answers. */
export async function postgresUnreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A fresh, migrated database (a temporary SQLite file, or a new PostgreSQL schema; with `keptDataDir`, the SQLite
 * database kept there, which cleanup leaves in place) behind the same AppContext the embedded server builds,
 * collecting from the simulator and pricing with the bench's rate card.
 */
export async function openBenchDatabase(
  dialect: Dialect,
  pgUrl: string | undefined,
  simUrl: string,
  fetchLimit: number,
  keptDataDir?: string,
): Promise<BenchDatabase> {
  const dataDir = keptDataDir ?? (await mkdtemp(join(tmpdir(), "fleetledger-billing-bench-")));
  const settings = loadSettings({ dataDir, env: {}, cwd: dataDir });
  settings.log.level = "silent";
  settings.cloudfoundry.foundations = [
    {
      name: "sim",
      api: simUrl,
      ...SIM_DEFAULTS.client,
      skip_tls_verification: false,
      user_agent: "fleetledger-bench",
      api_version: "v3",
      schedule: "1m",
      min_wait_time: "3s",
      // Larger pages go through ingestLargePages; the setting itself cannot exceed the collector's cap.
      fetch_limit: Math.min(fetchLimit, MAX_FETCH_LIMIT),
      record_min_age: "5m",
    },
  ];
  configurePricing(settings);
  let schema: string | undefined;
  if (dialect === "postgres") {
    if (!pgUrl) throw new Error("no PostgreSQL URL");
    schema = `bench_billing_${randomBytes(6).toString("hex")}`;
    await pgAdmin(pgUrl, `create schema ${schema}`);
    settings.database.url = pgUrl;
    settings.database.pool_size = 4;
  }
  const ctx = await createContext(settings, { logger: pino({ level: "silent" }), ...(schema ? { schema } : {}) });
  return {
    ctx,
    dialect,
    async cleanup() {
      await ctx.close();
      if (schema && pgUrl) await pgAdmin(pgUrl, `drop schema ${schema} cascade`);
      if (!keptDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * What syncOnce would do with pages above collectOnce's cap of 100, which it refuses: list after the stored marker,
 * validate each entity, store each page with the moved marker in one transaction (the real sink). Unlike
 * collectOnce it skips the minimum-age check, which none of the bench's weeks-old events would fail.
 */
async function ingestLargePages(ctx: AppContext, limit: number): Promise<number> {
  const sink = cfEventStore(ctx.database.db, indexEvent);
  const foundation = ctx.settings.cloudfoundry.foundations[0];
  if (!foundation) throw new Error("no foundation configured");
  const client = clientFor(foundation);
  let stored = 0;
  try {
    for (const kind of ["app", "service"] as const) {
      let marker = await sink.marker(foundation.name, kind);
      for (;;) {
        const page = await client.fetchPage(kind, { afterGuid: marker?.guid, limit });
        const last = page.events.at(-1);
        if (!last) break;
        for (const event of page.events) normalizeEntity(kind, event.entity);
        marker = { guid: last.guid, created_at: last.created_at };
        stored += await sink.store(foundation.name, kind, page.events, marker);
        if (!page.hasMore || page.events.length < limit) break;
      }
    }
  } finally {
    await client.close();
  }
  return stored;
}

export interface IngestResult {
  /** syncOnce, or the bench's page loop when --fetch-limit is above what syncOnce accepts. */
  collector: "syncOnce" | "bench page loop";
  fetch_limit: number;
  stored: number;
  /** HTTP round trips for events (pages), per kind, plus UAA token requests. */
  pages: number;
  pages_by_path: Record<string, number>;
  tokens: number;
  seconds: number;
  /** CPU of this process (collector, validation, SQL) and of the simulator answering the pages. */
  cpu_seconds: number;
  sim_cpu_seconds: number | null;
  events_per_second: number;
  ms_per_page: number;
  rss_mb: number;
}

/** Collects the whole simulator into the database and counts the round trips it took. */
export async function ingest(db: BenchDatabase, sim: SimProcess, fetchLimit: number): Promise<IngestResult> {
  const before = await sim.usage();
  const simCpu = await cpuSeconds(sim.pid);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const collector = fetchLimit > MAX_FETCH_LIMIT ? "bench page loop" : "syncOnce";
  const stored =
    collector === "syncOnce"
      ? (await syncOnce(db.ctx)).reduce((sum, outcome) => sum + outcome.stored, 0)
      : await ingestLargePages(db.ctx, fetchLimit);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const simCpuAfter = await cpuSeconds(sim.pid);
  const after = await sim.usage();
  const pagesByPath: Record<string, number> = {};
  for (const [path, count] of Object.entries(after.pages)) {
    const pages = count - (before.pages[path] ?? 0);
    if (pages > 0) pagesByPath[path] = pages;
  }
  const pages = Object.values(pagesByPath).reduce((sum, n) => sum + n, 0);
  return {
    collector,
    fetch_limit: fetchLimit,
    stored,
    pages,
    pages_by_path: pagesByPath,
    tokens: after.tokens - before.tokens,
    seconds,
    cpu_seconds: (used.user + used.system) / 1e6,
    sim_cpu_seconds: simCpu === undefined || simCpuAfter === undefined ? null : simCpuAfter - simCpu,
    events_per_second: stored / seconds,
    ms_per_page: pages > 0 ? (seconds * 1000) / pages : 0,
    rss_mb: Math.round(process.memoryUsage().rss / MB),
  };
}

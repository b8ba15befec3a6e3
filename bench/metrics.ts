import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import SQLite from "better-sqlite3";
import { hashSecret } from "../src/auth/secrets.js";
import { createToken } from "../src/auth/tokens.js";
import { migrate, openDatabase } from "../src/db/connect.js";
import { createOrganization } from "../src/systems/registry.js";
import { applyRetention } from "../src/telemetry/retention.js";
import { HOUR_MS, rollupHours } from "../src/telemetry/rollup.js";
import { cpuSeconds, rssBytes, type ServerProcess, startServer, threadCpuSeconds } from "./lib/fleetledger.js";
import { percentile, round, sleep } from "./lib/stats.js";
import { positiveOption } from "./lib/args.js";

export interface MetricsBenchOptions {
  agents: number;
  seriesPerAgent: number;
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
  /** How long the raw-insert limit runs. */
  limitSeconds: number;
  /** Span and sampling interval of the 10 series the rate query reads. */
  queryDays: number;
  querySeries: number;
  queryIntervalSeconds: number;
  queryRuns: number;
  log?: (line: string) => void;
}

export const DEFAULT_OPTIONS: MetricsBenchOptions = {
  agents: 1_000,
  seriesPerAgent: 200,
  seconds: 20,
  warmupSeconds: 3,
  concurrency: 32,
  limitSeconds: 10,
  queryDays: 90,
  querySeries: 10,
  queryIntervalSeconds: 60,
  queryRuns: 5,
};

const TARGET_SAMPLES_PER_SECOND = 200_000;
const TARGET_LIMIT_RATIO = 0.4;
const TARGET_QUERY_MS = 200;
const DAY_MS = 86_400_000;
const MB = 1024 * 1024;
const RETENTION = { metrics_days: 30, rollup_5m_days: 90, rollup_1h_days: 400, logs_days: 7 };

export interface Target {
  name: string;
  measured: string;
  pass: boolean;
}

export interface MetricsBenchResult {
  bench: "metrics";
  started_at: string;
  machine: { cpus: number; cpu_model: string; memory_mb: number; node: string; load_average: number };
  config: Omit<MetricsBenchOptions, "log">;
  setup_seconds: number;
  body_bytes: number;
  ingest: {
    window_seconds: number;
    requests: number;
    samples_answered_inserted: number;
    rows_stored_in_window: number;
    samples_per_second: number;
    rows_total: number;
    rows_expected_total: number;
  };
  latency_ms: { p50: number; p99: number; max: number };
  errors: Record<string, number>;
  server: { max_rss_mb: number | null; cpu_cores: number | null; threads: Record<string, number> };
  client_cpu_cores: number;
  limit: { samples_per_second: number; ratio: number };
  query: {
    path: string;
    days: number;
    series: number;
    source: string;
    points: number;
    median_ms: number;
    runs_ms: number[];
    raw_points: number;
    rollup_rows: number;
  };
  targets: Target[];
}

interface BenchAgent {
  authorization: string;
  batches: number;
}

/** 200 series per agent: 20 exporter metric names × 10 devices, the same shapes for every agent. */
function seriesFragments(count: number): string[] {
  const names = [
    "cpu_usage_percent",
    "memory_used_bytes",
    "disk_read_bytes_total",
    "disk_write_bytes_total",
    "network_receive_bytes_total",
    "network_transmit_bytes_total",
    "fs_used_bytes",
    "ipmi_temp_celsius",
    "ipmi_fan_rpm",
    "ipmi_power_watts",
    "gpu_temperature",
    "gpu_power_draw",
    "gpu_utilization_gpu",
    "gpu_utilization_memory",
    "gpu_fan_speed",
    "gpu_clock_sm",
    "gpu_memory_usage",
    "nvme_temperature_celsius",
    "container_cpu_percent",
    "container_mem_usage_mb",
  ];
  return Array.from({ length: count }, (_, i) => {
    const name = names[i % names.length] as string;
    return `"metric_name":"${name}","labels":{"device":"d${Math.floor(i / names.length)}"}`;
  });
}

/** Batch k of an agent: every series once, stamped one second after batch k − 1, in dcmon's wire format. */
function batchBody(fragments: readonly string[], timestampSeconds: number, k: number): string {
  let body = '{"metrics":[';
  for (let j = 0; j < fragments.length; j++) {
    if (j > 0) body += ",";
    body += `{"timestamp":${timestampSeconds},"value":${k * 1000 + j + 0.5},${fragments[j]}}`;
  }
  return `${body}],"logs":[]}`;
}

function post(
  agent: Agent,
  server: URL,
  authorization: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        hostname: server.hostname,
        port: server.port,
        path: "/api/metrics",
        method: "POST",
        headers: { authorization, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

interface Setup {
  agents: BenchAgent[];
  token: string;
  querySystem: string;
  queryRawPoints: number;
  queryRollupRows: number;
}

/**
 * Systems are inserted directly, all with one secret hashed once (a scrypt run per system would make setup take
 * minutes); the server still verifies each agent's token once, during the warm-up. The rate-query series get 90
 * days of samples and are then rolled up and thinned exactly as the maintenance job leaves them: raw points for
 * metrics_days, 5-minute and 1-hour rollups before that.
 */
async function setUp(
  dataDir: string,
  options: MetricsBenchOptions,
  now: number,
  log: (l: string) => void,
): Promise<Setup> {
  const file = join(dataDir, "fleetledger.db");
  const database = await openDatabase(`sqlite:${file}`);
  try {
    await migrate(database);
    const db = database.db;
    const org = await createOrganization(db, "bench");
    const secret = "bench-agent-secret";
    const secretHash = await hashSecret(secret);
    const stamp = new Date(now).toISOString();
    const agents: BenchAgent[] = [];
    const rows = Array.from({ length: options.agents + 1 }, (_, i) => {
      const key = `FL-BNCH-${String(i).padStart(4, "0")}-0000-0000`;
      if (i < options.agents) {
        agents.push({
          authorization: `Bearer flc_${key}_${secret}`,
          batches: 0,
        });
      }
      return {
        id: `bench-system-${i}`,
        org_id: org.id,
        name: i < options.agents ? `agent-${i}` : "query-host",
        system_key: key,
        secret_hash: secretHash,
        status: "unknown" as const,
        created_at: stamp,
        status_changed_at: stamp,
        last_heartbeat_at: null,
        last_inventory_at: null,
      };
    });
    for (let i = 0; i < rows.length; i += 500)
      await db
        .insertInto("systems")
        .values(rows.slice(i, i + 500))
        .execute();
    const token = await createToken(db, "bench", "viewer");

    const querySystem = `bench-system-${options.agents}`;
    const ids: number[] = [];
    for (let s = 0; s < options.querySeries; s++) {
      const row = await db
        .insertInto("metric_series")
        .values({
          system_id: querySystem,
          metric_name: "disk_read_bytes_total",
          labels: JSON.stringify({ device: `sd${String.fromCharCode(97 + s)}` }),
          created_at: stamp,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      ids.push(Number(row.id));
    }
    const from = now - options.queryDays * DAY_MS;
    const interval = options.queryIntervalSeconds * 1000;
    const sqlite = new SQLite(file);
    const insert = sqlite.prepare("insert into metric_points (series_id, ts, value) values (?, ?, ?)");
    sqlite.transaction(() => {
      for (const [s, id] of ids.entries()) {
        // A disk counter at 1–10 MB/s that restarts from zero once, halfway through.
        const perMs = (s + 1) * 1_000;
        for (let t = from + 1_000 + s; t <= now; t += interval) {
          const v = t < from + (options.queryDays / 2) * DAY_MS ? (t - from) * perMs : (t - from) * (perMs / 2);
          insert.run(id, t, 18e12 + v);
        }
      }
    })();
    sqlite.close();
    log(`  rolling up ${options.queryDays} days of the ${options.querySeries} query series and applying retention`);
    await rollupHours(db, from, now + HOUR_MS);
    await applyRetention(db, RETENTION, now);
    const raw = await db
      .selectFrom("metric_points")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    const rollups = await db
      .selectFrom("metric_rollups")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    return {
      agents,
      token,
      querySystem,
      queryRawPoints: Number(raw?.n ?? 0),
      queryRollupRows: Number(rollups?.n ?? 0),
    };
  } finally {
    await database.close();
  }
}

/**
 * What this machine's SQLite does at best with the same rows: a prepared insert into an identical table, one
 * transaction per agent batch, series ids and timestamps laid out as the load sent them.
 */
function measureLimit(dataDir: string, options: MetricsBenchOptions, baseTs: number): number {
  const sqlite = new SQLite(join(dataDir, "limit.db"));
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.exec(
    "create table metric_points (series_id bigint not null, ts bigint not null, value double precision not null, " +
      "constraint metric_points_pk primary key (series_id, ts)) without rowid",
  );
  const insert = sqlite.prepare("insert into metric_points (series_id, ts, value) values (?, ?, ?)");
  const batch = sqlite.transaction((agent: number, k: number) => {
    const first = agent * options.seriesPerAgent + 1;
    const ts = baseTs + k * 1000;
    for (let j = 0; j < options.seriesPerAgent; j++) insert.run(first + j, ts, k * 1000 + j + 0.5);
  });
  // The first batch of every agent, as the warm-up wrote it on the server, is not timed.
  for (let a = 0; a < options.agents; a++) batch(a, 0);
  let rows = 0;
  const started = performance.now();
  const until = started + options.limitSeconds * 1000;
  for (let k = 1; performance.now() < until; k++) {
    for (let a = 0; a < options.agents && performance.now() < until; a++) {
      batch(a, k);
      rows += options.seriesPerAgent;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  sqlite.close();
  return rows / seconds;
}

function countPoints(file: string): number {
  const sqlite = new SQLite(file, { readonly: true });
  try {
    return (sqlite.prepare("select count(*) as n from metric_points").get() as { n: number }).n;
  } finally {
    sqlite.close();
  }
}

export async function runMetricsBench(overrides: Partial<MetricsBenchOptions> = {}): Promise<MetricsBenchResult> {
  const { log: logOption, ...rest } = { ...DEFAULT_OPTIONS, ...overrides };
  const options: MetricsBenchOptions = rest;
  const log = logOption ?? (() => undefined);
  const startedAt = new Date();
  const loadAverage = os.loadavg()[0] ?? 0;
  const now = Date.now();
  const dataDir = await mkdtemp(join(os.tmpdir(), "fleetledger-bench-metrics-"));
  const dbFile = join(dataDir, "fleetledger.db");
  let server: ServerProcess | undefined;
  try {
    log(`setting up ${options.agents} agents and the rate-query series in ${dataDir}`);
    const setupStarted = performance.now();
    const setup = await setUp(dataDir, options, now, log);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    // Maintenance would run on its own schedule in the middle of the window; it is measured elsewhere.
    server = await startServer(dataDir, {
      FLEETLEDGER_LOG__LEVEL: "warn",
      FLEETLEDGER_TELEMETRY__RETENTION_CRON: "0 0 1 1 *",
    });
    log(`server pid ${server.pid} at ${server.url}`);

    const fragments = seriesFragments(options.seriesPerAgent);
    // Two hours back, one second per batch: thousands of batches per agent stay in the past.
    const baseTs = now - 2 * HOUR_MS;
    const url = new URL(server.url);
    const httpAgent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
    const errors: Record<string, number> = {};
    const latencies: number[] = [];
    let phase: "warmup" | "measure" | "stopped" = "warmup";
    let requests = 0;
    let inserted = 0;
    let insertedTotal = 0;
    let bodyBytes = 0;
    let maxRss: number | undefined;
    const rssTimer = setInterval(() => {
      void rssBytes((server as ServerProcess).pid).then((bytes) => {
        if (bytes !== undefined) maxRss = Math.max(maxRss ?? 0, bytes);
      });
    }, 500);

    const pushNext = async (agent: BenchAgent) => {
      const k = agent.batches;
      const body = batchBody(fragments, (baseTs + k * 1000) / 1000, k);
      bodyBytes = body.length;
      const started = performance.now();
      let status: string;
      let count = 0;
      try {
        const res = await post(httpAgent, url, agent.authorization, body);
        status = String(res.status);
        if (res.status === 200) count = (JSON.parse(res.body) as { inserted: number }).inserted;
      } catch {
        status = "network";
      }
      if (count > 0) {
        agent.batches++;
        insertedTotal += count;
      } else {
        errors[status] = (errors[status] ?? 0) + 1;
      }
      if (phase === "measure") {
        requests++;
        inserted += count;
        latencies.push(performance.now() - started);
      }
    };
    const workers = Array.from({ length: options.concurrency }, async (_, w) => {
      const mine = setup.agents.filter((_, i) => i % options.concurrency === w);
      for (let turn = 0; phase !== "stopped" && mine.length > 0; turn++) {
        await pushNext(mine[turn % mine.length] as BenchAgent);
      }
    });

    let windowSeconds = 0;
    let storedInWindow = 0;
    let serverCpu: number | undefined;
    const threadCores: Record<string, number> = {};
    let clientCpuSeconds = 0;
    try {
      log(`warm-up: at least ${options.warmupSeconds} s and until every agent has pushed once`);
      const warmupStarted = performance.now();
      while (
        performance.now() - warmupStarted < options.warmupSeconds * 1000 ||
        setup.agents.some((a) => a.batches === 0)
      ) {
        if (performance.now() - warmupStarted > Math.max(300, options.warmupSeconds * 2) * 1000) {
          throw new Error(`warm-up: not every agent got a batch in; errors ${JSON.stringify(errors)}`);
        }
        await sleep(50);
      }
      log(`measuring for ${options.seconds} s with ${options.concurrency} requests in flight`);
      const rowsBefore = countPoints(dbFile);
      const cpuBefore = await cpuSeconds(server.pid);
      const threadsBefore = await threadCpuSeconds(server.pid);
      const clientBefore = process.cpuUsage();
      const measureStarted = performance.now();
      phase = "measure";
      await sleep(options.seconds * 1000);
      windowSeconds = (performance.now() - measureStarted) / 1000;
      phase = "stopped";
      const cpuAfter = await cpuSeconds(server.pid);
      for (const [thread, seconds] of await threadCpuSeconds(server.pid)) {
        const busy = (seconds - (threadsBefore.get(thread) ?? 0)) / windowSeconds;
        if (busy >= 0.02) threadCores[thread] = round(busy, 2);
      }
      const clientCpu = process.cpuUsage(clientBefore);
      clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
      storedInWindow = countPoints(dbFile) - rowsBefore;
      serverCpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    } finally {
      phase = "stopped";
      await Promise.all(workers);
      clearInterval(rssTimer);
      httpAgent.destroy();
    }
    const rowsTotal = countPoints(dbFile);

    log(`rate query over ${options.queryDays} days of ${options.querySeries} series, ${options.queryRuns} runs`);
    const since = Math.floor((now - options.queryDays * DAY_MS) / 1000);
    const until = Math.floor(now / 1000);
    const path =
      `/api/timeseries/disk_read_bytes_total/rate?since=${since}&until=${until}&window=5m&aggregation=sum` +
      `&systems=${setup.querySystem}`;
    const runsMs: number[] = [];
    let source = "";
    let points = 0;
    for (let i = 0; i < options.queryRuns; i++) {
      const started = performance.now();
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${setup.token}` } });
      const text = await res.text();
      runsMs.push(performance.now() - started);
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`);
      const answer = JSON.parse(text) as { source: string; data: Record<string, unknown[]> };
      source = answer.source;
      points = answer.data[setup.querySystem]?.length ?? 0;
    }
    await server.stop();

    log(`limit: prepared inserts into SQLite for ${options.limitSeconds} s`);
    const limitPerSecond = measureLimit(dataDir, options, baseTs);

    const samplesPerSecond = storedInWindow / windowSeconds;
    const medianMs = percentile(runsMs, 0.5);
    const ratio = samplesPerSecond / limitPerSecond;
    return {
      bench: "metrics",
      started_at: startedAt.toISOString(),
      machine: {
        cpus: os.availableParallelism(),
        cpu_model: os.cpus()[0]?.model ?? "unknown",
        memory_mb: Math.round(os.totalmem() / MB),
        node: process.version,
        load_average: round(loadAverage, 2),
      },
      config: options,
      setup_seconds: round(setupSeconds, 1),
      body_bytes: bodyBytes,
      ingest: {
        window_seconds: round(windowSeconds, 2),
        requests,
        samples_answered_inserted: inserted,
        rows_stored_in_window: storedInWindow,
        samples_per_second: Math.round(samplesPerSecond),
        rows_total: rowsTotal,
        rows_expected_total: insertedTotal + setup.queryRawPoints,
      },
      latency_ms: {
        p50: round(percentile(latencies, 0.5), 2),
        p99: round(percentile(latencies, 0.99), 2),
        max: round(percentile(latencies, 1), 2),
      },
      errors,
      server: {
        max_rss_mb: maxRss === undefined ? null : round(maxRss / MB, 1),
        cpu_cores: serverCpu === undefined ? null : round(serverCpu / windowSeconds, 2),
        threads: threadCores,
      },
      client_cpu_cores: round(clientCpuSeconds / windowSeconds, 2),
      limit: { samples_per_second: Math.round(limitPerSecond), ratio: round(ratio, 3) },
      query: {
        path,
        days: options.queryDays,
        series: options.querySeries,
        source,
        points,
        median_ms: round(medianMs, 1),
        runs_ms: runsMs.map((ms) => round(ms, 1)),
        raw_points: setup.queryRawPoints,
        rollup_rows: setup.queryRollupRows,
      },
      targets: [
        {
          name: `stored samples/s ≥ ${TARGET_SAMPLES_PER_SECOND.toLocaleString("en")}`,
          measured: Math.round(samplesPerSecond).toLocaleString("en"),
          pass: samplesPerSecond >= TARGET_SAMPLES_PER_SECOND,
        },
        {
          name: `ours / raw SQLite insert limit ≥ ${TARGET_LIMIT_RATIO}`,
          measured: String(round(ratio, 3)),
          pass: ratio >= TARGET_LIMIT_RATIO,
        },
        {
          name: `${options.queryDays}-day rate query over ${options.querySeries} series ≤ ${TARGET_QUERY_MS} ms (median)`,
          measured: `${round(medianMs, 1)} ms`,
          pass: medianMs <= TARGET_QUERY_MS,
        },
      ],
    };
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const n = (value: number) => value.toLocaleString("en");

export function formatReport(r: MetricsBenchResult): string {
  const rows: [string, string][] = [
    [
      "stored samples/s",
      `**${n(r.ingest.samples_per_second)}** (${n(r.ingest.rows_stored_in_window)} rows in ${r.ingest.window_seconds} s)`,
    ],
    ["POST /api/metrics latency p50 / p99 / max", `${r.latency_ms.p50} / ${r.latency_ms.p99} / ${r.latency_ms.max} ms`],
    [
      "requests in the window",
      `${n(r.ingest.requests)} of ${r.config.seriesPerAgent} samples, ${n(r.body_bytes)} bytes each`,
    ],
    [
      "CPU cores busy: server / load generator",
      `${r.server.cpu_cores ?? "n/a"} / ${r.client_cpu_cores} (of ${r.machine.cpus})`,
    ],
    [
      "server threads busy (cores)",
      Object.entries(r.server.threads)
        .sort((a, b) => b[1] - a[1])
        .map(([thread, cores]) => `${thread} ${cores}`)
        .join(", ") || "n/a",
    ],
    ["server RSS, max", r.server.max_rss_mb === null ? "n/a" : `${r.server.max_rss_mb} MB`],
    ["errors by status", Object.keys(r.errors).length === 0 ? "none" : JSON.stringify(r.errors)],
    ["rows stored / rows the answers reported", `${n(r.ingest.rows_total)} / ${n(r.ingest.rows_expected_total)}`],
    ["limit: prepared inserts, one transaction per batch", `${n(r.limit.samples_per_second)} samples/s`],
    ["**ours / limit**", `**${r.limit.ratio}**`],
    [
      `rate query, ${r.query.days} days × ${r.query.series} series (source ${r.query.source}, ${r.query.points} points)`,
      `median **${r.query.median_ms} ms** (runs: ${r.query.runs_ms.join(", ")})`,
    ],
    [
      "query series as stored after maintenance",
      `${n(r.query.raw_points)} raw points, ${n(r.query.rollup_rows)} rollup rows`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${[
    `Fleetledger metrics ingest: ${r.config.agents} agents × ${r.config.seriesPerAgent} series, ${r.config.concurrency} requests in flight, ${r.config.seconds} s after ${r.config.warmupSeconds} s warm-up (embedded SQLite)`,
    `machine: ${r.machine.cpus} × ${r.machine.cpu_model}, ${n(r.machine.memory_mb)} MB RAM, Node ${r.machine.node}, load average ${r.machine.load_average} before the run (client and server share the CPUs)`,
    `setup: ${r.setup_seconds} s`,
    "",
    `| ${"measure".padEnd(width)} | value |`,
    `|${"-".repeat(width + 2)}|-------|`,
    ...rows.map(([k, value]) => `| ${k.padEnd(width)} | ${value} |`),
    "",
    "targets:",
    ...r.targets.map((t) => `  ${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.measured}`),
  ].join("\n")}\n`;
}

export const USAGE = `usage: npm run bench -- metrics [options]

K simulated agents push dcmon-format metric batches (one sample of each of their series per batch) to a real
server (embedded mode, SQLite) over HTTP keep-alive; reports stored samples/s, POST latency and server RSS, the
ratio to this machine's raw SQLite insert limit measured in the same run, and the median time of a rate query
over 90 days of 10 series stored as maintenance leaves them. Writes bench/results/metrics-<timestamp>.json.

options:
  --agents K         simulated agents (default ${DEFAULT_OPTIONS.agents})
  --series N         series per agent = samples per batch (default ${DEFAULT_OPTIONS.seriesPerAgent})
  --seconds N        measured window (default ${DEFAULT_OPTIONS.seconds})
  --warmup N         warm-up seconds; it also lasts until every agent got a batch in (default ${DEFAULT_OPTIONS.warmupSeconds})
  --concurrency N    requests in flight (default ${DEFAULT_OPTIONS.concurrency})
  --limit-seconds N  how long the raw-insert limit runs (default ${DEFAULT_OPTIONS.limitSeconds})
  --query-days N     span of the rate query (default ${DEFAULT_OPTIONS.queryDays})
  -h, --help         this text
`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      agents: { type: "string" },
      series: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      concurrency: { type: "string" },
      "limit-seconds": { type: "string" },
      "query-days": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const result = await runMetricsBench({
    agents: positiveOption("agents", values.agents, DEFAULT_OPTIONS.agents),
    seriesPerAgent: positiveOption("series", values.series, DEFAULT_OPTIONS.seriesPerAgent),
    seconds: positiveOption("seconds", values.seconds, DEFAULT_OPTIONS.seconds, { integer: false }),
    warmupSeconds: positiveOption("warmup", values.warmup, DEFAULT_OPTIONS.warmupSeconds, { integer: false }),
    concurrency: positiveOption("concurrency", values.concurrency, DEFAULT_OPTIONS.concurrency),
    limitSeconds: positiveOption("limit-seconds", values["limit-seconds"], DEFAULT_OPTIONS.limitSeconds, {
      integer: false,
    }),
    queryDays: positiveOption("query-days", values["query-days"], DEFAULT_OPTIONS.queryDays),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(formatReport(result));
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = join(dir, `metrics-${result.started_at.replaceAll(":", "-").replace(/\.\d+Z$/, "Z")}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nresult: ${file}\n`);
  return result.ingest.rows_total === result.ingest.rows_expected_total ? 0 : 1;
}

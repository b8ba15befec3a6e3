import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { canonicalJson } from "../src/inventory/canonical.js";
import { type Change, SimulatedSystem } from "./inventory-documents.js";
import { type ProfileSummary, summariseProfile } from "./lib/cpuprofile.js";
import {
  cliJson,
  cpuSeconds,
  type FleetledgerProcess,
  rssBytes,
  type ServerProcess,
  startServer,
  startWorker,
} from "./lib/fleetledger.js";
import { mapLimit, percentile, round, sleep } from "./lib/stats.js";
import { positiveOption } from "./lib/args.js";

export interface InventoryBenchOptions {
  systems: number;
  seconds: number;
  concurrency: number;
  warmupSeconds: number;
  /** How long the single-core parse + canonical JSON + SHA-256 loop runs. */
  baselineSeconds: number;
  seed: number;
  drainTimeoutSeconds: number;
  /** Write a V8 CPU profile of the server here and summarise it. */
  cpuProfDir?: string | undefined;
  /** Diff the documents in a `fleetledger worker` process beside `serve --no-worker`, as cluster mode does. */
  separateWorker?: boolean;
  log?: (line: string) => void;
}

export const DEFAULT_OPTIONS: InventoryBenchOptions = {
  systems: 200,
  seconds: 20,
  concurrency: 64,
  warmupSeconds: 3,
  baselineSeconds: 3,
  seed: 20261123,
  drainTimeoutSeconds: 120,
};

/** collect's "thousands of systems every minute": 3,000 documents a minute. */
const COLLECT_CLAIM_PER_SECOND = 50;
const TARGET_ACCEPTED_PER_SECOND = 2000;
const TARGET_DRAIN_SECONDS = 5;
const TARGET_RSS_MB = 300;
// Far above anything a run can queue, so the bench measures the pipeline and not the back-pressure answer.
const QUEUE_MAX_PENDING = 10_000_000;
const MB = 1024 * 1024;

export interface QueueSample {
  /** Seconds since the measured window began; negative during warm-up. */
  t: number;
  pending: number;
  lag_seconds: number;
}

export interface Target {
  name: string;
  measured: string;
  pass: boolean;
}

export interface InventoryBenchResult {
  bench: "inventory";
  started_at: string;
  machine: {
    cpus: number;
    cpu_model: string;
    memory_mb: number;
    node: string;
    platform: string;
    /** 1-minute load average before the bench started: anything else running skews every number. */
    load_average: number;
  };
  config: {
    systems: number;
    concurrency: number;
    seconds: number;
    warmup_seconds: number;
    seed: number;
    queue_max_pending: number;
    worker: "in the server" | "separate process";
  };
  setup_seconds: number;
  document_bytes: number;
  throughput: {
    window_seconds: number;
    requests: number;
    accepted: number;
    duplicates: number;
    accepted_per_second: number;
  };
  latency_ms: { p50: number; p99: number; max: number };
  /** Cores busy during the window; server_ms_per_document is what one accepted document costs the server. */
  cpu: {
    server_cores: number | null;
    worker_cores: number | null;
    client_cores: number;
    /** Server and, when separate, worker CPU per accepted document. */
    server_ms_per_document: number | null;
  };
  /** Non-202 answers by status over warm-up and window; "network" for failed connections. */
  errors: Record<string, number>;
  queue: {
    max_pending: number;
    final_pending: number;
    max_lag_seconds: number;
    drain_seconds: number | null;
    samples: QueueSample[];
  };
  server: { max_rss_mb: number | null; worker_max_rss_mb: number | null };
  /**
   * ratio compares wall-clock throughputs, as asked; cpu_ratio compares CPU time per document (limit / server), which
   * other load on the machine does not skew.
   */
  baseline: { documents_per_second: number; cpu_ms_per_document: number; ratio: number; cpu_ratio: number | null };
  collect_claim: { documents_per_second: number; ratio: number };
  verification: {
    accepted_posts: number;
    records: number;
    expected_changes: number;
    recorded_changes: number;
    sampled_systems: number;
    sampled_expected_diffs: number;
    sampled_diffs: number;
    latest_diff_paths_match: boolean;
    dead_jobs: number;
    ok: boolean;
  };
  targets: Target[];
  profile: ProfileSummary | null;
}

interface SystemState {
  id: string;
  name: string;
  authorization: string;
  sim: SimulatedSystem;
  accepted: number;
  expectedChanges: number;
  latest: { recordId: number; paths: string[] } | undefined;
}

interface Created {
  id: string;
  system_key: string;
  system_secret: string;
}

const systemName = (index: number, count: number) => `bench-${String(index + 1).padStart(String(count).length, "0")}`;

function envelope(system: SimulatedSystem, name: string): string {
  return JSON.stringify({ system_id: name, timestamp: new Date().toISOString(), data: system.data });
}

/**
 * What one core of this machine can do at best with these documents: the parse, canonical JSON and hash every
 * accepted document costs before any storage. The documents are the first ones the load will post.
 */
function measureBaseline(options: InventoryBenchOptions): { perSecond: number; cpuMsPerDocument: number } {
  const systems = Array.from({ length: Math.min(options.systems, 50) }, (_, i) => {
    const name = systemName(i, options.systems);
    return { name, sim: new SimulatedSystem(name, i, options.seed) };
  });
  const bodies = systems.map(({ name, sim }) => envelope(sim, name));
  while (bodies.length < 1000) {
    for (const { name, sim } of systems) {
      sim.mutate();
      bodies.push(envelope(sim, name));
    }
  }
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const until = started + options.baselineSeconds * 1000;
  let done = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 50; i++, done++) {
      const parsed = JSON.parse(bodies[done % bodies.length] as string) as { data: unknown };
      createHash("sha256").update(canonicalJson(parsed.data)).digest("hex");
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    perSecond: done / ((performance.now() - started) / 1000),
    cpuMsPerDocument: (cpu.user + cpu.system) / 1000 / done,
  };
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
        path: "/api/systems/inventory",
        method: "POST",
        headers: {
          authorization,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
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

async function api<T>(server: ServerProcess, token: string, path: string): Promise<T> {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every page of a paged list endpoint. */
async function all<T>(server: ServerProcess, token: string, path: string): Promise<T[]> {
  const rows: T[] = [];
  const separator = path.includes("?") ? "&" : "?";
  for (;;) {
    const page = await api<T[]>(server, token, `${path}${separator}limit=1000&offset=${rows.length}`);
    rows.push(...page);
    if (page.length < 1000) return rows;
  }
}

async function diffQueue(server: ServerProcess, token: string) {
  const queues = await api<{ queue: string; pending: number; dead: number; lag_seconds: number }[]>(
    server,
    token,
    "/api/jobs",
  );
  return (
    queues.find((q) => q.queue === "inventory.diff") ?? { queue: "inventory.diff", pending: 0, dead: 0, lag_seconds: 0 }
  );
}

interface Fleet {
  token: string;
  systems: SystemState[];
}

/** The token, then the systems: asked first, a failing token costs seconds instead of the minutes systems take. */
async function createFleet(dataDir: string, count: number, seed: number, log: (line: string) => void): Promise<Fleet> {
  const { token } = await cliJson<{ token: string }>(dataDir, [
    "token",
    "create",
    "--name",
    "bench",
    "--role",
    "viewer",
  ]);
  // One at a time: side-by-side CLI runs, each opening and migrating the same SQLite file, came out slower per
  // system on 2 cores (measured 0.9 s alone, 1.1–1.7 s with 2–8 at once).
  const systems: SystemState[] = [];
  for (let index = 0; index < count; index++) {
    const name = systemName(index, count);
    const created = await cliJson<Created>(dataDir, ["system", "create", "--org", "bench", "--name", name]);
    systems.push({
      id: created.id,
      name,
      authorization: `Basic ${Buffer.from(`${created.system_key}:${created.system_secret}`).toString("base64")}`,
      sim: new SimulatedSystem(name, index, seed),
      accepted: 0,
      expectedChanges: 0,
      latest: undefined,
    });
    if ((index + 1) % Math.max(1, Math.ceil(count / 10)) === 0) log(`  ${index + 1}/${count} systems created`);
  }
  return { token, systems };
}

/** Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the event loop. */
async function mainThreadProfile(dir: string, pid: number): Promise<string | undefined> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile") && f.includes(`.${pid}.0.`)).sort();
  const file = files.at(-1);
  return file === undefined ? undefined : join(dir, file);
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

interface LoadOutcome {
  concurrency: number;
  windowSeconds: number;
  requests: number;
  accepted: number;
  duplicates: number;
  latencies: number[];
  errors: Record<string, number>;
  documentBytes: number;
  samples: QueueSample[];
  finalPending: number;
  drainSeconds: number | null;
  /** Per Fleetledger process (server, then the worker when separate): highest RSS, CPU seconds in the window. */
  maxRssBytes: (number | undefined)[];
  cpuSeconds: (number | undefined)[];
  /** CPU seconds this process, the load generator, used in the window. */
  clientCpuSeconds: number;
  /** The window on the CLOCK_MONOTONIC microsecond scale CPU profiles use. */
  window: { from_us: number; to_us: number };
}

/**
 * Warm-up, the measured window, then the drain. Requests in flight when the window closes finish but do not count
 * towards throughput; they do count towards what the server must have stored.
 */
async function driveLoad(
  server: ServerProcess,
  worker: FleetledgerProcess | undefined,
  fleet: Fleet,
  options: InventoryBenchOptions,
  log: (line: string) => void,
): Promise<LoadOutcome> {
  const serverUrl = new URL(server.url);
  const concurrency = Math.min(options.concurrency, fleet.systems.length);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  const samples: QueueSample[] = [];
  let phase: "warmup" | "measure" | "stopped" = "warmup";
  let requests = 0;
  let accepted = 0;
  let duplicates = 0;
  let bodyBytes = 0;
  let bodies = 0;
  const watched = worker ? [server, worker] : [server];
  const maxRssBytes: (number | undefined)[] = watched.map(() => undefined);
  let measureStarted = performance.now();
  let sampling = false;

  const postNext = async (system: SystemState) => {
    // A system's first document is its baseline; every later one changes 1–3 fields of the last accepted one.
    const changes: Change[] = system.accepted === 0 ? [] : system.sim.mutate();
    const body = envelope(system.sim, system.name);
    bodyBytes += body.length;
    bodies++;
    const started = performance.now();
    let status: string;
    let reply: { id: number; duplicate: boolean } | undefined;
    try {
      const res = await post(agent, serverUrl, system.authorization, body);
      status = String(res.status);
      if (res.status === 202) reply = JSON.parse(res.body) as { id: number; duplicate: boolean };
    } catch {
      status = "network";
    }
    const inWindow = phase === "measure";
    if (inWindow) {
      requests++;
      latencies.push(performance.now() - started);
    }
    if (reply && !reply.duplicate) {
      system.accepted++;
      system.expectedChanges += changes.length;
      system.latest = { recordId: reply.id, paths: changes.map((c) => c.path) };
      if (inWindow) accepted++;
      return;
    }
    if (reply && inWindow) duplicates++;
    if (!reply) errors[status] = (errors[status] ?? 0) + 1;
    for (const change of changes.reverse()) change.undo();
  };

  const sample = async () => {
    const q = await diffQueue(server, fleet.token);
    const point = {
      t: round((performance.now() - measureStarted) / 1000, 2),
      pending: q.pending,
      lag_seconds: round(q.lag_seconds, 2),
    };
    samples.push(point);
    return point;
  };

  const rssTimer = setInterval(() => {
    for (const [i, { pid }] of watched.entries()) {
      void rssBytes(pid).then((bytes) => {
        if (bytes !== undefined) maxRssBytes[i] = Math.max(maxRssBytes[i] ?? 0, bytes);
      });
    }
  }, 500);
  const queueTimer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    sample()
      .catch((err: unknown) => log(`queue sample failed: ${(err as Error).message}`))
      .finally(() => {
        sampling = false;
      });
  }, 1000);
  // One request in flight per system, so each document is diffed against the document it was derived from.
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    const mine = fleet.systems.filter((_, i) => i % concurrency === w);
    for (let turn = 0; phase !== "stopped"; turn++) await postNext(mine[turn % mine.length] as SystemState);
  });

  try {
    log(`warm-up: at least ${options.warmupSeconds} s and until every system has posted once`);
    const warmupStarted = performance.now();
    const warmupDeadline = warmupStarted + Math.max(120, options.warmupSeconds * 2) * 1000;
    while (
      performance.now() - warmupStarted < options.warmupSeconds * 1000 ||
      fleet.systems.some((s) => s.accepted === 0)
    ) {
      if (performance.now() > warmupDeadline) {
        throw new Error(`warm-up: not every system got a document accepted; errors ${JSON.stringify(errors)}`);
      }
      await sleep(50);
    }

    log(`measuring for ${options.seconds} s with ${concurrency} requests in flight`);
    const cpuBefore = await Promise.all(watched.map(({ pid }) => cpuSeconds(pid)));
    const clientCpuBefore = process.cpuUsage();
    const windowFrom = monotonicMicros();
    measureStarted = performance.now();
    phase = "measure";
    await sleep(options.seconds * 1000);
    const windowSeconds = (performance.now() - measureStarted) / 1000;
    phase = "stopped";
    const windowTo = monotonicMicros();
    const cpuAfter = await Promise.all(watched.map(({ pid }) => cpuSeconds(pid)));
    const clientCpu = process.cpuUsage(clientCpuBefore);
    await Promise.all(workers);
    clearInterval(queueTimer);
    while (sampling) await sleep(10);

    log("load stopped; waiting for the diff queue to drain");
    const stopped = performance.now();
    const final = await sample();
    let drainSeconds: number | null = final.pending === 0 ? 0 : null;
    while (drainSeconds === null && performance.now() - stopped < options.drainTimeoutSeconds * 1000) {
      await sleep(250);
      if ((await sample()).pending === 0) drainSeconds = (performance.now() - stopped) / 1000;
    }
    return {
      concurrency,
      windowSeconds,
      requests,
      accepted,
      duplicates,
      latencies,
      errors,
      documentBytes: bodies === 0 ? 0 : Math.round(bodyBytes / bodies),
      samples,
      finalPending: final.pending,
      drainSeconds,
      maxRssBytes,
      cpuSeconds: watched.map((_, i) => {
        const [before, after] = [cpuBefore[i], cpuAfter[i]];
        return before === undefined || after === undefined ? undefined : after - before;
      }),
      clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
      window: { from_us: windowFrom, to_us: windowTo },
    };
  } finally {
    phase = "stopped";
    await Promise.all(workers);
    clearInterval(queueTimer);
    clearInterval(rssTimer);
    agent.destroy();
  }
}

export async function runInventoryBench(overrides: Partial<InventoryBenchOptions> = {}): Promise<InventoryBenchResult> {
  const options = { ...DEFAULT_OPTIONS, ...overrides };
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  const loadAverage = os.loadavg()[0] ?? 0;

  log(`baseline: parse + canonical JSON + SHA-256 for ${options.baselineSeconds} s on one core`);
  const baseline = measureBaseline(options);

  const dataDir = await mkdtemp(join(os.tmpdir(), "fleetledger-bench-"));
  const settings = {
    FLEETLEDGER_INVENTORY__RATE_LIMIT_PER_MINUTE: "0",
    FLEETLEDGER_LOG__LEVEL: "warn",
    FLEETLEDGER_QUEUE__MAX_PENDING: String(QUEUE_MAX_PENDING),
  };
  let starting: Promise<ServerProcess> | undefined;
  let server: ServerProcess | undefined;
  let worker: FleetledgerProcess | undefined;
  try {
    log(`creating an organization, ${options.systems} systems and a token with the CLI in ${dataDir}`);
    const setupStarted = performance.now();
    await cliJson(dataDir, ["org", "create", "bench"]);
    const profileDir = options.cpuProfDir === undefined ? undefined : resolve(options.cpuProfDir);
    if (profileDir) await mkdir(profileDir, { recursive: true });
    // The first command migrated the database, so the server can start while the systems are created.
    starting = startServer(
      dataDir,
      settings,
      profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {},
      options.separateWorker ? ["--no-worker"] : [],
    );
    starting.catch(() => undefined);
    const fleet = await createFleet(dataDir, options.systems, options.seed, log);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    server = await starting;
    log(`server pid ${server.pid} at ${server.url}`);
    if (options.separateWorker) {
      worker = await startWorker(dataDir, settings);
      log(`worker pid ${worker.pid}`);
    }

    const load = await driveLoad(server, worker, fleet, options, log);

    log("verifying records and diffs through the API");
    const verification = await verify(server, fleet.token, fleet.systems);

    await worker?.stop();
    await server.stop();
    const profileFile = profileDir ? await mainThreadProfile(profileDir, server.pid) : undefined;
    const profile = profileFile ? await summariseProfile(profileFile, load.window) : null;

    const acceptedPerSecond = load.accepted / load.windowSeconds;
    const [serverCpu, workerCpu] = load.cpuSeconds;
    const fleetledgerCpu = load.cpuSeconds.some((c) => c === undefined)
      ? undefined
      : load.cpuSeconds.reduce<number>((sum, c) => sum + (c ?? 0), 0);
    const serverMsPerDocument =
      fleetledgerCpu === undefined || load.accepted === 0 ? null : (fleetledgerCpu * 1000) / load.accepted;
    const cores = (seconds: number | undefined) =>
      seconds === undefined ? null : round(seconds / load.windowSeconds, 2);
    const mb = (bytes: number | undefined) => (bytes === undefined ? null : round(bytes / MB, 1));
    const measured = load.samples.filter((s) => s.t >= 0);
    const maxRssMb = mb(load.maxRssBytes[0]);
    return {
      bench: "inventory",
      started_at: startedAt.toISOString(),
      machine: {
        cpus: os.availableParallelism(),
        cpu_model: os.cpus()[0]?.model ?? "unknown",
        memory_mb: Math.round(os.totalmem() / MB),
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        load_average: round(loadAverage, 2),
      },
      config: {
        systems: options.systems,
        concurrency: load.concurrency,
        seconds: options.seconds,
        warmup_seconds: options.warmupSeconds,
        seed: options.seed,
        queue_max_pending: QUEUE_MAX_PENDING,
        worker: worker ? "separate process" : "in the server",
      },
      setup_seconds: round(setupSeconds, 1),
      document_bytes: load.documentBytes,
      throughput: {
        window_seconds: round(load.windowSeconds, 2),
        requests: load.requests,
        accepted: load.accepted,
        duplicates: load.duplicates,
        accepted_per_second: round(acceptedPerSecond, 1),
      },
      latency_ms: {
        p50: round(percentile(load.latencies, 0.5), 2),
        p99: round(percentile(load.latencies, 0.99), 2),
        max: round(percentile(load.latencies, 1), 2),
      },
      cpu: {
        server_cores: cores(serverCpu),
        worker_cores: worker ? cores(workerCpu) : null,
        client_cores: round(load.clientCpuSeconds / load.windowSeconds, 2),
        server_ms_per_document: serverMsPerDocument === null ? null : round(serverMsPerDocument, 2),
      },
      errors: load.errors,
      queue: {
        max_pending: Math.max(0, ...measured.map((s) => s.pending)),
        final_pending: load.finalPending,
        max_lag_seconds: Math.max(0, ...measured.map((s) => s.lag_seconds)),
        drain_seconds: load.drainSeconds === null ? null : round(load.drainSeconds, 2),
        samples: load.samples,
      },
      server: { max_rss_mb: maxRssMb, worker_max_rss_mb: worker ? mb(load.maxRssBytes[1]) : null },
      baseline: {
        documents_per_second: round(baseline.perSecond, 1),
        cpu_ms_per_document: round(baseline.cpuMsPerDocument, 3),
        ratio: round(acceptedPerSecond / baseline.perSecond, 3),
        cpu_ratio: serverMsPerDocument === null ? null : round(baseline.cpuMsPerDocument / serverMsPerDocument, 3),
      },
      collect_claim: {
        documents_per_second: COLLECT_CLAIM_PER_SECOND,
        ratio: round(acceptedPerSecond / COLLECT_CLAIM_PER_SECOND, 1),
      },
      verification,
      targets: [
        {
          name: `≥ ${TARGET_ACCEPTED_PER_SECOND.toLocaleString("en")} documents/s accepted`,
          measured: `${Math.round(acceptedPerSecond).toLocaleString("en")}/s`,
          pass: acceptedPerSecond >= TARGET_ACCEPTED_PER_SECOND,
        },
        {
          name: `diff queue keeps up: drained ≤ ${TARGET_DRAIN_SECONDS} s after the load stops`,
          measured:
            load.drainSeconds === null
              ? `not drained in ${options.drainTimeoutSeconds} s`
              : `${round(load.drainSeconds, 1)} s`,
          pass: load.drainSeconds !== null && load.drainSeconds <= TARGET_DRAIN_SECONDS,
        },
        {
          name: `server RSS ≤ ${TARGET_RSS_MB} MB`,
          measured: maxRssMb === null ? "not measured (no /proc)" : `${maxRssMb} MB`,
          pass: maxRssMb !== null && maxRssMb <= TARGET_RSS_MB,
        },
      ],
      profile,
    };
  } catch (err) {
    if (server) throw new Error(`${(err as Error).message}\nserver output:\n${server.output()}`, { cause: err });
    throw err;
  } finally {
    await worker?.stop();
    await (await starting?.catch(() => undefined))?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Reads back what the server stored, so the bench cannot report work that did not happen: one record per accepted
 * post, each with exactly the changes its post made, and for a few systems the diff rows themselves.
 */
async function verify(
  server: ServerProcess,
  token: string,
  systems: SystemState[],
): Promise<InventoryBenchResult["verification"]> {
  const stored = await mapLimit(systems, 8, (s) =>
    all<{ id: number; change_count: number }>(server, token, `/api/systems/${s.id}/inventory/records`),
  );
  const mismatched = systems.filter((s, i) => {
    const records = stored[i] ?? [];
    return records.length !== s.accepted || records.reduce((n, r) => n + r.change_count, 0) !== s.expectedChanges;
  });

  const sampleCount = Math.min(5, systems.length);
  const sampled = Array.from(
    { length: sampleCount },
    (_, i) => systems[Math.floor((i * systems.length) / sampleCount)] as SystemState,
  );
  let sampledDiffs = 0;
  let latestMatch = true;
  for (const system of sampled) {
    sampledDiffs += (await all(server, token, `/api/systems/${system.id}/inventory/diffs`)).length;
    if (!system.latest) continue;
    const latest = await api<{ field_path: string }[]>(
      server,
      token,
      `/api/systems/${system.id}/inventory/diffs?record_id=${system.latest.recordId}&limit=1000`,
    );
    const found = latest.map((d) => d.field_path).sort();
    const expected = [...system.latest.paths].sort();
    if (found.join("\n") !== expected.join("\n")) latestMatch = false;
  }

  const accepted = systems.reduce((n, s) => n + s.accepted, 0);
  const records = stored.reduce((n, r) => n + r.length, 0);
  const expectedChanges = systems.reduce((n, s) => n + s.expectedChanges, 0);
  const recordedChanges = stored.reduce((n, r) => n + r.reduce((m, x) => m + x.change_count, 0), 0);
  const sampledExpected = sampled.reduce((n, s) => n + s.expectedChanges, 0);
  const { dead } = await diffQueue(server, token);
  return {
    accepted_posts: accepted,
    records,
    expected_changes: expectedChanges,
    recorded_changes: recordedChanges,
    sampled_systems: sampled.length,
    sampled_expected_diffs: sampledExpected,
    sampled_diffs: sampledDiffs,
    latest_diff_paths_match: latestMatch,
    dead_jobs: dead,
    ok: accepted > 0 && mismatched.length === 0 && sampledDiffs === sampledExpected && latestMatch && dead === 0,
  };
}

const n = (value: number) => Math.round(value).toLocaleString("en");

export function formatReport(r: InventoryBenchResult): string {
  const errors = Object.entries(r.errors);
  const v = r.verification;
  const rows: [string, string][] = [
    [
      "accepted documents/s",
      `**${n(r.throughput.accepted_per_second)}** (${n(r.throughput.accepted)} in ${r.throughput.window_seconds} s)`,
    ],
    ["POST latency p50 / p99 / max", `${r.latency_ms.p50} / ${r.latency_ms.p99} / ${r.latency_ms.max} ms`],
    [
      r.cpu.worker_cores === null
        ? "CPU cores busy: server / load generator"
        : "CPU cores busy: server / worker / load generator",
      `${[r.cpu.server_cores, ...(r.cpu.worker_cores === null ? [] : [r.cpu.worker_cores]), r.cpu.client_cores].map((c) => c ?? "n/a").join(" / ")} (of ${r.machine.cpus})`,
    ],
    [
      "server CPU per accepted document",
      r.cpu.server_ms_per_document === null
        ? "n/a"
        : `${r.cpu.server_ms_per_document} ms (${n(1000 / r.cpu.server_ms_per_document)} documents/s per busy core)`,
    ],
    [
      "errors by status",
      errors.length === 0 ? "none" : errors.map(([status, count]) => `${status}: ${n(count)}`).join(", "),
    ],
    ["duplicates (should be 0)", n(r.throughput.duplicates)],
    ["diff queue pending: max / at load stop", `${n(r.queue.max_pending)} / ${n(r.queue.final_pending)}`],
    ["diff queue lag, max", `${r.queue.max_lag_seconds} s`],
    [
      "drain time after the load stops",
      r.queue.drain_seconds === null ? "did not drain" : `${r.queue.drain_seconds} s`,
    ],
    ["server RSS, max", r.server.max_rss_mb === null ? "n/a" : `${r.server.max_rss_mb} MB`],
    ...(r.config.worker === "separate process"
      ? [["worker RSS, max", `${r.server.worker_max_rss_mb ?? "n/a"} MB`] as [string, string]]
      : []),
    [
      "limit: parse + canonical JSON + SHA-256, 1 core",
      `${n(r.baseline.documents_per_second)} documents/s (${r.baseline.cpu_ms_per_document} ms CPU per document)`,
    ],
    ["**ours / limit**, throughput", `**${r.baseline.ratio}**`],
    ["**ours / limit**, CPU per document", `**${r.baseline.cpu_ratio ?? "n/a"}**`],
    [`**ours / collect's claim (≈${r.collect_claim.documents_per_second}/s)**`, `**${r.collect_claim.ratio}×**`],
    ["records stored / posts accepted", `${n(v.records)} / ${n(v.accepted_posts)}`],
    ["changes recorded / changes posted", `${n(v.recorded_changes)} / ${n(v.expected_changes)}`],
    [
      `diff rows of ${v.sampled_systems} sampled systems`,
      `${n(v.sampled_diffs)} / ${n(v.sampled_expected_diffs)} expected; latest paths ${v.latest_diff_paths_match ? "match" : "DIFFER"}`,
    ],
    ["dead diff jobs", n(v.dead_jobs)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [
    `Fleetledger inventory ingest: ${r.config.systems} systems, ${r.config.concurrency} requests in flight, ${r.config.seconds} s after ${r.config.warmup_seconds} s warm-up, ${n(r.document_bytes)}-byte documents, diff worker ${r.config.worker}`,
    `machine: ${r.machine.cpus} × ${r.machine.cpu_model}, ${n(r.machine.memory_mb)} MB RAM, Node ${r.machine.node}, ${r.machine.platform}, load average ${r.machine.load_average} before the run (client and server share the CPUs)`,
    `setup (CLI): ${r.setup_seconds} s`,
    "",
    `| ${"measure".padEnd(width)} | value |`,
    `|${"-".repeat(width + 2)}|-------|`,
    ...rows.map(([k, value]) => `| ${k.padEnd(width)} | ${value} |`),
    "",
    `verification: ${v.ok ? "OK" : "FAILED: the server did not store what the bench counted"}`,
    "",
    "targets:",
    ...r.targets.map((t) => `  ${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.measured}`),
  ];
  if (r.profile) {
    lines.push(
      "",
      `server CPU profile of the measured window (${r.profile.file}): ${n(r.profile.busy_ms)} ms busy, ${n(r.profile.idle_ms)} ms idle`,
      "  self time by area:",
      ...r.profile.by_area.map(
        (a) => `    ${String(a.percent).padStart(5)} %  ${n(a.self_ms).padStart(7)} ms  ${a.name}`,
      ),
      "  top functions by self time:",
      ...r.profile.top_functions.map(
        (f) => `    ${String(f.percent).padStart(5)} %  ${n(f.self_ms).padStart(7)} ms  ${f.name}`,
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

export const USAGE = `usage: npm run bench -- inventory [options]

K simulated systems push ~10 KB inventory documents to a real server (embedded mode, SQLite) over HTTP
keep-alive; reports accepted documents/s, POST latency, diff-queue lag and drain, server RSS, and the ratio to
one core's parse + canonical JSON + SHA-256 limit. Writes bench/results/inventory-<timestamp>.json.

options:
  --systems K        simulated systems (default ${DEFAULT_OPTIONS.systems})
  --seconds N        measured window (default ${DEFAULT_OPTIONS.seconds})
  --concurrency N    requests in flight (default ${DEFAULT_OPTIONS.concurrency}; at most K)
  --warmup N         warm-up seconds before the window (default ${DEFAULT_OPTIONS.warmupSeconds})
  --seed N           document generator seed (default ${DEFAULT_OPTIONS.seed})
  --cpu-prof DIR     write a V8 CPU profile of the server to DIR and print its top self-time functions
  --separate-worker  diff in a \`fleetledger worker\` process beside \`serve --no-worker\` (cluster mode's split)
  -h, --help         this text
`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      systems: { type: "string" },
      seconds: { type: "string" },
      concurrency: { type: "string" },
      warmup: { type: "string" },
      seed: { type: "string" },
      "cpu-prof": { type: "string" },
      "separate-worker": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const result = await runInventoryBench({
    systems: positiveOption("systems", values.systems, DEFAULT_OPTIONS.systems),
    seconds: positiveOption("seconds", values.seconds, DEFAULT_OPTIONS.seconds, { integer: false }),
    concurrency: positiveOption("concurrency", values.concurrency, DEFAULT_OPTIONS.concurrency),
    warmupSeconds: positiveOption("warmup", values.warmup, DEFAULT_OPTIONS.warmupSeconds, { integer: false }),
    seed: positiveOption("seed", values.seed, DEFAULT_OPTIONS.seed),
    cpuProfDir: values["cpu-prof"],
    separateWorker: values["separate-worker"] ?? false,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(formatReport(result));
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = join(dir, `inventory-${result.started_at.replaceAll(":", "-").replace(/\.\d+Z$/, "Z")}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nresult: ${file}\n`);
  return result.verification.ok ? 0 : 1;
}

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Dialect } from "../src/db/connect.js";
import { billingDeps, monthlyBill } from "../src/cloudfoundry/billing.js";
import { type BillResult, benchBill, benchLimit, type LimitResult, type Timing } from "./billing/bill.js";
import { BENCH_MONTH, type FoundationSize, foundationSize, type Loaded } from "./billing/foundation.js";
import {
  type IngestResult,
  ingest,
  openBenchDatabase,
  postgresUnreachable,
  type SimProcess,
  startSimProcess,
} from "./billing/ingest.js";
import { type ProfileSummary, summariseProfile } from "./lib/cpuprofile.js";
import { round } from "./lib/stats.js";
import { positiveOption } from "./lib/args.js";

export const DEFAULT_OPTIONS = { events: 1_000_000, orgs: 1000, fetchLimit: 100, runs: 3 } as const;
/** The issue's target for the bill of one month for all orgs on SQLite. */
export const BILL_MAX_SECONDS = 10;
/** What the simulator's v3 endpoints accept per page; the collector itself stops at 100 (paas-billing's page). */
const SIM_MAX_PER_PAGE = 5000;
const SEED = 20261001;
const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));

export interface BillingBenchOptions {
  events: number;
  orgs: number;
  fetchLimit: number;
  runs: number;
  /** PostgreSQL to repeat ingest and bill on; undefined runs SQLite only. */
  pgUrl?: string | undefined;
  /** Write V8 CPU profiles of the SQLite ingest and of one more (untimed) bill run, and summarise them. */
  profile?: boolean;
  /**
   * A directory whose SQLite database is kept: the first run ingests into it, later runs with the same events,
   * orgs and seed bill what it holds and skip the simulator and the ingest.
   */
  reuseDb?: string | undefined;
  log?: (line: string) => void;
}

export interface Target {
  name: string;
  measured: string;
  pass: boolean;
}

export interface DialectResult {
  dialect: Dialect;
  /** Null when the events came from a database kept by an earlier run (--reuse-db). */
  ingest: IngestResult | null;
  /** Events in the database the bill read. */
  stored: number;
  bill: BillResult;
  /** ours / limit, best against best, by wall time and by CPU time. */
  ratio_best: number;
  ratio_median: number;
  ratio_best_cpu: number;
  profiles: ProfileSummary[];
}

export interface BillingBenchResult {
  bench: "billing";
  started_at: string;
  machine: {
    cpus: number;
    cpu_model: string;
    memory_mb: number;
    node: string;
    platform: string;
    /** 1-minute load average before the bench: anything else running inflates wall times. */
    load_average: number;
  };
  config: { events: number; orgs: number; fetch_limit: number; runs: number; seed: number; month: string };
  foundation: FoundationSize & Loaded & { sim_rss_mb: number };
  limit: LimitResult;
  databases: DialectResult[];
  /** Why a part did not run, e.g. PostgreSQL unreachable. */
  skipped: string[];
  targets: Target[];
  /** Peak resident set of this process (ingest and bill; the simulator is another process). */
  peak_rss_mb: number;
  duration_seconds: number;
}

const ratio = (ours: number, limit: number) => round(ours / Math.max(limit, 1e-9), 2);

async function profiled<T>(file: string, task: () => Promise<T>): Promise<{ value: T; summary: ProfileSummary }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  let value: T;
  try {
    value = await task();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  }
  return { value, summary: await summariseProfile(file) };
}

/** What --reuse-db keeps next to the database: the foundation it holds, reported again by runs that reuse it. */
interface KeptFoundation {
  events: number;
  orgs: number;
  seed: number;
  loaded: Loaded;
  sim_rss_mb: number;
}

const KEPT_FOUNDATION = "bench-foundation.json";

async function keptFoundation(dir: string, options: BillingBenchOptions): Promise<KeptFoundation | undefined> {
  let kept: KeptFoundation;
  try {
    kept = JSON.parse(await readFile(join(dir, KEPT_FOUNDATION), "utf8")) as KeptFoundation;
  } catch {
    return undefined;
  }
  return kept.events === options.events && kept.orgs === options.orgs && kept.seed === SEED ? kept : undefined;
}

async function benchDatabase(
  dialect: Dialect,
  sim: SimProcess | undefined,
  options: BillingBenchOptions,
  profileStem: string | undefined,
  withLimit: boolean,
): Promise<{
  ingest: IngestResult | null;
  stored: number;
  bill: BillResult;
  profiles: ProfileSummary[];
  limit?: LimitResult;
}> {
  const log = options.log ?? (() => undefined);
  const keptDir = dialect === "sqlite" ? options.reuseDb : undefined;
  const db = await openBenchDatabase(
    dialect,
    options.pgUrl,
    sim?.url ?? "http://127.0.0.1:9",
    options.fetchLimit,
    keptDir,
  );
  // As the server and CLI build it: a bill of this size spreads its organization slices over worker threads.
  const deps = billingDeps(db.ctx);
  const profiles: ProfileSummary[] = [];
  try {
    let ingested: IngestResult | null = null;
    if (sim) {
      log(`${dialect}: ingest of ${options.events.toLocaleString("en")} events, ${options.fetchLimit} per page`);
      const ingestRun = () => ingest(db, sim, options.fetchLimit);
      if (profileStem) {
        const run = await profiled(`${profileStem}-${dialect}-ingest.cpuprofile`, ingestRun);
        ingested = run.value;
        profiles.push(run.summary);
      } else {
        ingested = await ingestRun();
      }
      log(
        `  ${ingested.stored} events in ${ingested.seconds.toFixed(1)} s: ${Math.round(ingested.events_per_second)}/s, ` +
          `${ingested.pages} pages`,
      );
    } else {
      log(`${dialect}: the events of ${keptDir} (kept by an earlier run)`);
    }
    const count = await db.ctx.database.db
      .selectFrom("cf_usage_events")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .executeTakeFirstOrThrow();
    log(`${dialect}: monthlyBill ${BENCH_MONTH} for all orgs, ${options.runs} runs, alternating with its stages`);
    const bill = await benchBill(deps, BENCH_MONTH, options.runs, log);
    let limit: LimitResult | undefined;
    if (withLimit) {
      log("limit: priceTotals over the month's intervals, built once");
      limit = await benchLimit(deps, BENCH_MONTH, options.runs, log);
    }
    if (profileStem) {
      const run = await profiled(`${profileStem}-${dialect}-bill.cpuprofile`, () =>
        monthlyBill(deps, BENCH_MONTH, undefined),
      );
      profiles.push(run.summary);
    }
    return { ingest: ingested, stored: Number(count.n), bill, profiles, ...(limit ? { limit } : {}) };
  } finally {
    await db.cleanup();
  }
}

function targets(options: BillingBenchOptions, databases: DialectResult[]): Target[] {
  const out: Target[] = [];
  for (const d of databases) {
    const b = d.bill;
    if (d.dialect === "sqlite") {
      out.push({
        name: `sqlite monthlyBill for all orgs ≤ ${BILL_MAX_SECONDS} s (best of ${b.ours.runs_s.length})`,
        measured: `${b.ours.best_s} s (CPU ${b.ours.best_cpu_s} s)`,
        pass: b.ours.best_s <= BILL_MAX_SECONDS,
      });
    }
    out.push({
      name: `${d.dialect}: every event stored`,
      measured: `${d.stored} of ${options.events}`,
      pass: d.stored === options.events,
    });
    out.push({
      name: `${d.dialect}: the bill covers every org, is priced in full and equals the sum of its stages`,
      measured: `${b.orgs} orgs, ${b.unpriced} unpriced, ${b.total_ex_vat} ex VAT (stages ${b.split_total_ex_vat})`,
      pass:
        b.orgs === options.orgs &&
        b.unpriced === 0 &&
        Number(b.total_ex_vat) > 0 &&
        b.total_ex_vat === b.split_total_ex_vat,
    });
  }
  return out;
}

export async function runBillingBench(options: BillingBenchOptions): Promise<BillingBenchResult> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  const started = performance.now();
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? "unknown",
    memory_mb: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    load_average: round(os.loadavg()[0] ?? 0, 2),
  };
  const skipped: string[] = [];
  const stamp = startedAt
    .toISOString()
    .replaceAll(":", "-")
    .replace(/\.\d+Z$/, "Z");
  if (options.profile) await mkdir(RESULTS, { recursive: true });
  const profileStem = options.profile ? join(RESULTS, `billing-${stamp}`) : undefined;

  const dialects: Dialect[] = ["sqlite"];
  if (options.pgUrl) {
    const unreachable = await postgresUnreachable(options.pgUrl);
    if (unreachable) skipped.push(`PostgreSQL skipped: ${unreachable}`);
    else dialects.push("postgres");
  } else {
    skipped.push("PostgreSQL skipped: no --pg URL and no FLEETLEDGER_TEST_DATABASE_URL");
  }
  if (options.reuseDb) await mkdir(options.reuseDb, { recursive: true });
  const kept = options.reuseDb ? await keptFoundation(options.reuseDb, options) : undefined;
  let sim: SimProcess | undefined;
  if (!kept || dialects.includes("postgres")) {
    log(`simulator: generating ${options.events.toLocaleString("en")} events for ${options.orgs} orgs`);
    sim = await startSimProcess({ events: options.events, orgs: options.orgs, seed: SEED });
    log(`  ${sim.loaded.seconds.toFixed(1)} s, simulator RSS ${sim.rss_mb} MB`);
  }
  const foundation = kept ?? {
    events: options.events,
    orgs: options.orgs,
    seed: SEED,
    loaded: (sim as SimProcess).loaded,
    sim_rss_mb: (sim as SimProcess).rss_mb,
  };
  const databases: DialectResult[] = [];
  let limit: LimitResult | undefined;
  try {
    for (const dialect of dialects) {
      // The limit has no storage, so it is timed once, on the intervals SQLite gives.
      const source = dialect === "sqlite" && kept ? undefined : sim;
      const run = await benchDatabase(dialect, source, options, profileStem, limit === undefined);
      if (dialect === "sqlite" && options.reuseDb && !kept) {
        await writeFile(join(options.reuseDb, KEPT_FOUNDATION), `${JSON.stringify(foundation, null, 2)}\n`);
      }
      limit ??= run.limit;
      const l = limit?.timing;
      if (!l) throw new Error("the limit was not measured");
      const ours: Timing = run.bill.ours;
      databases.push({
        dialect,
        ingest: run.ingest,
        stored: run.stored,
        bill: run.bill,
        ratio_best: ratio(ours.best_s, l.best_s),
        ratio_median: ratio(ours.median_s, l.median_s),
        ratio_best_cpu: ratio(ours.best_cpu_s, l.best_cpu_s),
        profiles: run.profiles,
      });
    }
  } finally {
    await sim?.stop();
  }
  if (!limit) throw new Error("no database was benchmarked");
  return {
    bench: "billing",
    started_at: startedAt.toISOString(),
    machine,
    config: {
      events: options.events,
      orgs: options.orgs,
      fetch_limit: options.fetchLimit,
      runs: options.runs,
      seed: SEED,
      month: BENCH_MONTH,
    },
    foundation: { ...foundationSize(options.orgs), ...foundation.loaded, sim_rss_mb: foundation.sim_rss_mb },
    limit,
    databases,
    skipped,
    targets: targets(options, databases),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    duration_seconds: round((performance.now() - started) / 1000, 1),
  };
}

const s = (t: Timing) => `${t.best_s.toFixed(2)} / ${t.median_s.toFixed(2)}`;
const n = (value: number) => value.toLocaleString("en");

export function formatReport(r: BillingBenchResult): string {
  const m = r.machine;
  const f = r.foundation;
  const lines = [
    `Fleetledger Cloud Foundry billing bench: ${n(r.config.events)} usage events of ${n(f.orgs)} orgs, bill of ${r.config.month}; ` +
      `${r.config.runs} runs, best / median`,
    `machine: ${m.cpus} × ${m.cpu_model}, ${n(m.memory_mb)} MB RAM, Node ${m.node}, ${m.platform}, load average ${m.load_average} before the run`,
    "",
    `foundation: ${n(f.orgs)} orgs, ${n(f.spaces)} spaces, ${n(f.apps)} apps, ${n(f.service_instances)} service instances; ` +
      `${n(f.app_events)} app + ${n(f.service_events)} service events from ${f.first_event} to ${f.last_event} ` +
      `(${n(f.before_month)} before the month, ${n(f.in_month)} in it, ${n(f.after_month)} after); ` +
      `generated into the simulator in ${f.seconds.toFixed(1)} s, simulator RSS ${n(f.sim_rss_mb)} MB`,
    "",
    "| database | collector | events/page | events | pages | s | events/s | ms/page | CPU s ours / simulator |",
    "|---|---|---|---|---|---|---|---|---|",
    ...r.databases.map((d) => {
      const i = d.ingest;
      if (!i) return `| ${d.dialect} | none: ${n(d.stored)} events kept by an earlier run (--reuse-db) | | | | | | | |`;
      const simCpu = i.sim_cpu_seconds === null ? "n/a" : i.sim_cpu_seconds.toFixed(1);
      return `| ${d.dialect} | ${i.collector} | ${i.fetch_limit} | ${n(i.stored)} | ${n(i.pages)} | ${i.seconds.toFixed(1)} | ${n(Math.round(i.events_per_second))} | ${i.ms_per_page.toFixed(1)} | ${i.cpu_seconds.toFixed(1)} / ${simCpu} |`;
    }),
    "",
    `| database | monthlyBill s | CPU s (best) | orgs | events loaded | intervals | billable events | total inc VAT | ≤ ${BILL_MAX_SECONDS} s |`,
    "|---|---|---|---|---|---|---|---|---|",
    ...r.databases.map((d) => {
      const b = d.bill;
      const verdict = d.dialect === "sqlite" ? (b.ours.best_s <= BILL_MAX_SECONDS ? "PASS" : "FAIL") : "—";
      return `| ${d.dialect} | ${s(b.ours)} | ${b.ours.best_cpu_s.toFixed(2)} | ${n(b.orgs)} | ${n(b.events_loaded)} | ${n(b.intervals)} | ${n(b.billable_events)} | ${b.total_inc_vat} | ${verdict} |`;
    }),
    "",
    "where the work is (each stage timed alone over the whole month in one thread, s best / median; the bill",
    "itself runs them per slice of organizations on worker threads):",
    "",
    "| database | loadTransitions (SQL) | intervalsInRange | priceTotals | groupBill + sumTotals | CPU s of the stages / of monthlyBill |",
    "|---|---|---|---|---|---|",
    ...r.databases.map((d) => {
      const p = d.bill.split;
      const stagesCpu = p.load.best_cpu_s + p.intervals.best_cpu_s + p.price.best_cpu_s + p.group.best_cpu_s;
      return `| ${d.dialect} | ${s(p.load)} | ${s(p.intervals)} | ${s(p.price)} | ${s(p.group)} | ${stagesCpu.toFixed(2)} / ${d.bill.ours.best_cpu_s.toFixed(2)} |`;
    }),
    "",
    `limit: priceTotals over the same ${n(r.limit.intervals)} intervals with no storage: ${s(r.limit.timing)} s, ` +
      `CPU ${r.limit.timing.best_cpu_s.toFixed(2)} s`,
    ...r.databases.map(
      (d) =>
        `  ${d.dialect}: ours / limit ${d.ratio_best}× best, ${d.ratio_median}× median, ${d.ratio_best_cpu}× by CPU`,
    ),
  ];
  for (const d of r.databases) {
    for (const p of d.profiles) {
      lines.push(
        "",
        `profile ${p.file} (${n(p.busy_ms)} ms busy): ${p.by_area
          .slice(0, 8)
          .map((a) => `${a.name} ${a.percent}%`)
          .join(", ")}`,
        ...p.top_functions.slice(0, 10).map((t) => `  ${t.percent.toFixed(1).padStart(5)}%  ${t.name}`),
      );
    }
  }

  lines.push(
    ...r.skipped.map((note) => `note: ${note}`),
    "",
    "targets:",
    ...r.targets.map((t) => `  ${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.measured}`),
    "",
    `peak RSS ${n(r.peak_rss_mb)} MB (simulator apart); total ${r.duration_seconds} s`,
  );
  return `${lines.join("\n")}\n`;
}

export const USAGE = `usage: npm run bench -- billing [options]

Generates a month of Cloud Foundry usage events (fixed seed) into the simulator, run in its own process; collects
them with syncOnce into a fresh database; then times monthlyBill for ${BENCH_MONTH} for all orgs (target ≤ ${BILL_MAX_SECONDS} s on
SQLite), each of its stages alone, and the limit: priceTotals over the same intervals with no storage.
Writes bench/results/billing-<timestamp>.json.

options:
  --events N         usage events (default ${n(DEFAULT_OPTIONS.events)})
  --orgs N           organizations, each 2 spaces of 5 apps and 2 service instances (default ${n(DEFAULT_OPTIONS.orgs)})
  --fetch-limit N    events per page, 1 to ${SIM_MAX_PER_PAGE} (default ${DEFAULT_OPTIONS.fetchLimit}, paas-billing's); syncOnce takes at most 100,
                     so larger pages go through a bench copy of its page loop
  --runs N           timed runs of the bill, its stages and the limit (default ${DEFAULT_OPTIONS.runs})
  --pg URL|off       also PostgreSQL, in a fresh schema (default FLEETLEDGER_TEST_DATABASE_URL, else off)
  --profile          CPU profiles of the SQLite ingest and one more bill run, summarised, next to the JSON
  --reuse-db DIR     keep the SQLite database in DIR (created if missing): the first run ingests into it, later
                     runs with the same --events and --orgs bill what it holds (migrated to the current schema)
                     without the simulator or the ingest; PostgreSQL, when on, still ingests
  -h, --help         this text
`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: "string" },
      orgs: { type: "string" },
      "fetch-limit": { type: "string" },
      runs: { type: "string" },
      pg: { type: "string" },
      profile: { type: "boolean" },
      "reuse-db": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const pg = values.pg ?? process.env.FLEETLEDGER_TEST_DATABASE_URL ?? "off";
  const result = await runBillingBench({
    events: positiveOption("events", values.events, DEFAULT_OPTIONS.events),
    orgs: positiveOption("orgs", values.orgs, DEFAULT_OPTIONS.orgs),
    fetchLimit: positiveOption("fetch-limit", values["fetch-limit"], DEFAULT_OPTIONS.fetchLimit, {
      max: SIM_MAX_PER_PAGE,
    }),
    runs: positiveOption("runs", values.runs, DEFAULT_OPTIONS.runs),
    pgUrl: pg === "off" ? undefined : pg,
    profile: values.profile ?? false,
    reuseDb: values["reuse-db"] === undefined ? undefined : resolve(values["reuse-db"]),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(formatReport(result));
  await mkdir(RESULTS, { recursive: true });
  const file = join(RESULTS, `billing-${result.started_at.replaceAll(":", "-").replace(/\.\d+Z$/, "Z")}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nresult: ${file}\n`);
  return result.targets.every((t) => t.pass) ? 0 : 1;
}

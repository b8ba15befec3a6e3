import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { type Database, type Dialect, migrate, openDatabase } from "../../src/db/connect.js";
import { aggregateDaily, aggregateMonthly } from "../../src/vsphere/aggregate.js";
import { cpuSeconds } from "../lib/fleetledger.js";
import { percentile, round } from "../lib/stats.js";
import { generateDay, generateMonth } from "./data.js";
import {
  dailyLimitSql,
  LIMIT_TABLE,
  matchingRowsSql,
  monthlyLimitSql,
  OURS_TABLE,
  PERIOD_COLUMN,
  type Period,
} from "./limit.js";
import { psqlShell, type ShellTiming, shellVersion, sqliteShell } from "./shell.js";

/** The generated day and month: different months, so the monthly run finds no samples to aggregate first. */
export const BENCH_DAY = "2026-11-16";
export const BENCH_MONTH = "2026-12";

export interface Timing {
  runs_s: number[];
  best_s: number;
  median_s: number;
  /** CPU seconds of the process that executed the SQL (ours: this process or its PostgreSQL backend). */
  cpu_s: (number | null)[];
  best_cpu_s: number | null;
}

export interface RollupCase {
  period: Period;
  /** The day or month aggregated. */
  value: string;
  input_rows: number;
  rows_ours: number;
  rows_limit: number;
  /** Rows of ours equal to a row of the limit (floats to 1e-9 relative). */
  matched_rows: number;
  ours: Timing;
  limit: Timing;
  ratio_best: number;
  ratio_median: number;
  ratio_best_cpu: number | null;
}

export interface DialectResult {
  dialect: Dialect;
  /** The library ours runs on and the shell the limit runs in, which can be different builds. */
  versions: { ours: string; shell: string };
  setup_seconds: { generate_day?: number; generate_month?: number; analyze: number };
  daily?: RollupCase;
  monthly?: RollupCase;
}

export interface RollupOptions {
  vms: number;
  days: number;
  runs: number;
  periods: Period[];
  log: (line: string) => void;
}

interface Target {
  database: Database;
  /** Untimed: drop ours' or the limit's rows of the period and flush the WAL, so every run starts alike. */
  reset(table: string, period: Period, value: string): Promise<void>;
  ours(run: () => Promise<unknown>): Promise<{ seconds: number; cpu: number | null }>;
  limit(statement: string): Promise<ShellTiming>;
  versions(): Promise<{ ours: string; shell: string }>;
  /** Makes the limit's twin tables: same columns, primary key and secondary index as the rollup tables. */
  createTwins(): Promise<void>;
  close(): Promise<void>;
}

function timing(runs: { seconds: number; cpu: number | null }[]): Timing {
  const seconds = runs.map((r) => r.seconds);
  const cpu = runs.map((r) => (r.cpu === null ? null : round(r.cpu, 3)));
  const known = cpu.filter((c): c is number => c !== null);
  return {
    runs_s: seconds.map((s) => round(s, 3)),
    best_s: round(Math.min(...seconds), 3),
    median_s: round(percentile(seconds, 0.5), 3),
    cpu_s: cpu,
    best_cpu_s: known.length === runs.length ? Math.min(...known) : null,
  };
}

async function deleteAndFlush(database: Database, table: string, period: Period, value: string): Promise<void> {
  await sql`delete from ${sql.table(table)} where ${sql.ref(PERIOD_COLUMN[period])} = ${value}`.execute(database.db);
  if (database.dialect === "sqlite") {
    await sql`pragma wal_checkpoint(truncate)`.execute(database.db);
    return;
  }
  try {
    await sql`checkpoint`.execute(database.db);
  } catch {
    // CHECKPOINT needs a superuser or pg_checkpoint; without it both sides just share whatever the server does.
  }
}

async function sqliteTarget(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), "fleetledger-vsphere-bench-"));
  const file = join(dir, "bench.db");
  const database = await openDatabase(`sqlite:${file}`);
  await migrate(database);
  return {
    database,
    reset: (table, period, value) => deleteAndFlush(database, table, period, value),
    async ours(run) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await run();
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      return { seconds, cpu: (used.user + used.system) / 1e6 };
    },
    limit: (statement) => sqliteShell(file, statement),
    async versions() {
      const { rows } = await sql<{ v: string }>`select sqlite_version() as v`.execute(database.db);
      return { ours: `SQLite ${rows[0]?.v} (better-sqlite3)`, shell: `sqlite3 ${await shellVersion("sqlite3")}` };
    },
    async createTwins() {
      for (const period of ["daily", "monthly"] as const) {
        const { rows } = await sql<{
          sql: string;
        }>`select sql from sqlite_master where name = ${OURS_TABLE[period]}`.execute(database.db);
        const ddl = rows[0]?.sql.replace(`"${OURS_TABLE[period]}"`, LIMIT_TABLE[period]);
        if (!ddl) throw new Error(`no table ${OURS_TABLE[period]}`);
        await sql.raw(ddl).execute(database.db);
        await sql
          .raw(`create index ${LIMIT_TABLE[period]}_vm on ${LIMIT_TABLE[period]} (vm_id, ${PERIOD_COLUMN[period]})`)
          .execute(database.db);
      }
    },
    async close() {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Why the server cannot be used (undefined when it can), so the bench can say so and go on with SQLite. */
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

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function postgresTarget(url: string): Promise<Target> {
  const schema = `bench_vsphere_${randomBytes(4).toString("hex")}`;
  await adminQuery(url, `create schema ${schema}`);
  // One connection, so every statement of ours runs in the backend whose CPU time is read.
  const database = await openDatabase(url, { schema, poolSize: 1 });
  await migrate(database);
  const backend = async () =>
    (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(database.db)).rows[0]?.pid ?? -1;
  return {
    database,
    reset: (table, period, value) => deleteAndFlush(database, table, period, value),
    async ours(run) {
      // The pool closes idle connections, so the backend is looked up around each run, not once.
      const pid = await backend();
      const before = await cpuSeconds(pid);
      const started = performance.now();
      await run();
      const seconds = (performance.now() - started) / 1000;
      const after = await cpuSeconds(pid);
      const same = (await backend()) === pid;
      return { seconds, cpu: same && before !== undefined && after !== undefined ? after - before : null };
    },
    limit: (statement) => psqlShell(url, schema, statement),
    async versions() {
      const { rows } = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(database.db);
      return { ours: `PostgreSQL ${rows[0]?.v} (pg)`, shell: await shellVersion("psql") };
    },
    async createTwins() {
      for (const period of ["daily", "monthly"] as const) {
        await sql
          .raw(`create table ${LIMIT_TABLE[period]} (like ${OURS_TABLE[period]} including all)`)
          .execute(database.db);
      }
    },
    async close() {
      await database.close();
      await adminQuery(url, `drop schema ${schema} cascade`);
    },
  };
}

async function count(database: Database, period: Period, table: string, value: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}
    where ${sql.ref(PERIOD_COLUMN[period])} = ${value}`.execute(database.db);
  return Number(rows[0]?.n ?? 0);
}

async function measure(
  target: Target,
  period: Period,
  inputRows: number,
  runs: number,
  log: (line: string) => void,
): Promise<RollupCase> {
  const { database } = target;
  const value = period === "daily" ? BENCH_DAY : BENCH_MONTH;
  const statement = period === "daily" ? dailyLimitSql(database.dialect, value) : monthlyLimitSql(value);
  const ours = () =>
    period === "daily"
      ? aggregateDaily(database.db, database.dialect, value)
      : aggregateMonthly(database.db, database.dialect, value, "daily");
  const oursRuns: { seconds: number; cpu: number | null }[] = [];
  const limitRuns: ShellTiming[] = [];
  const runOurs = async () => {
    await target.reset(OURS_TABLE[period], period, value);
    oursRuns.push(await target.ours(ours));
  };
  const runLimit = async () => {
    await target.reset(LIMIT_TABLE[period], period, value);
    limitRuns.push(await target.limit(statement));
  };
  for (let run = 0; run < runs; run++) {
    // Alternating who goes first spreads cache warmth and background load evenly over both.
    for (const step of run % 2 === 0 ? [runOurs, runLimit] : [runLimit, runOurs]) await step();
    log(
      `  ${database.dialect} ${period} run ${run + 1}/${runs}: ours ${oursRuns[run]?.seconds.toFixed(2)} s, ` +
        `limit ${limitRuns[run]?.seconds.toFixed(2)} s`,
    );
  }
  // Fresh statistics first: the runs added the period's rows after the last ANALYZE, and on PostgreSQL a plan
  // that still expects none of them joins the two tables without their keys and takes many minutes.
  await sql
    .raw(database.dialect === "sqlite" ? "analyze" : `analyze ${OURS_TABLE[period]}, ${LIMIT_TABLE[period]}`)
    .execute(database.db);
  const { rows } = await sql<{ n: number }>`${sql.raw(matchingRowsSql(period, value))}`.execute(database.db);
  const o = timing(oursRuns);
  const l = timing(limitRuns.map((r) => ({ seconds: r.seconds, cpu: r.cpuSeconds })));
  return {
    period,
    value,
    input_rows: inputRows,
    rows_ours: await count(database, period, OURS_TABLE[period], value),
    rows_limit: await count(database, period, LIMIT_TABLE[period], value),
    matched_rows: Number(rows[0]?.n ?? 0),
    ours: o,
    limit: l,
    ratio_best: round(o.best_s / l.best_s, 2),
    ratio_median: round(o.median_s / l.median_s, 2),
    ratio_best_cpu: o.best_cpu_s !== null && l.best_cpu_s ? round(o.best_cpu_s / l.best_cpu_s, 2) : null,
  };
}

/** Generates the inputs in a fresh database of the dialect, then times ours against the limit for each period. */
export async function benchRollups(
  dialect: Dialect,
  pgUrl: string | undefined,
  options: RollupOptions,
): Promise<DialectResult> {
  const target = dialect === "sqlite" ? await sqliteTarget() : await postgresTarget(pgUrl ?? "");
  const { database } = target;
  const seconds = (started: number) => round((performance.now() - started) / 1000, 1);
  try {
    const result: DialectResult = {
      dialect,
      versions: await target.versions(),
      setup_seconds: { analyze: 0 },
    };
    await target.createTwins();
    const inputs: Partial<Record<Period, number>> = {};
    if (options.periods.includes("daily")) {
      const started = performance.now();
      inputs.daily = await generateDay(database.db, dialect, BENCH_DAY, options.vms);
      result.setup_seconds.generate_day = seconds(started);
      options.log(`  ${dialect}: ${inputs.daily} samples generated in ${result.setup_seconds.generate_day} s`);
    }
    if (options.periods.includes("monthly")) {
      const started = performance.now();
      inputs.monthly = await generateMonth(database.db, dialect, BENCH_MONTH, options.days, options.vms);
      result.setup_seconds.generate_month = seconds(started);
      options.log(`  ${dialect}: ${inputs.monthly} daily rows generated in ${result.setup_seconds.generate_month} s`);
      // The daily rollup then writes into a table that already holds a month of rows, whose indexes make each
      // insert dearer; the limit's twin gets the same rows so both sides pay that alike.
      await sql.raw(`insert into ${LIMIT_TABLE.daily} select * from ${OURS_TABLE.daily}`).execute(database.db);
    }
    // Fresh statistics (and on PostgreSQL a vacuumed heap) as db-cleanup leaves them, so neither side pays for
    // hint bits or plans on a table the planner has never seen.
    const started = performance.now();
    await sql
      .raw(
        dialect === "sqlite"
          ? "analyze"
          : `vacuum analyze vsphere_snapshots, vm_samples, vm_daily_rollup, ${LIMIT_TABLE.daily}`,
      )
      .execute(database.db);
    result.setup_seconds.analyze = seconds(started);
    for (const period of options.periods) {
      result[period] = await measure(target, period, inputs[period] ?? 0, options.runs, options.log);
    }
    return result;
  } finally {
    await target.close();
  }
}

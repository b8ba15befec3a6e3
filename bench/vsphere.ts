import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { round } from "./lib/stats.js";
import { VCENTERS } from "./vsphere/data.js";
import type { Period } from "./vsphere/limit.js";
import { benchRollups, type DialectResult, postgresUnreachable, type RollupCase } from "./vsphere/rollup.js";
import { benchSnapshot, type SnapshotResult } from "./vsphere/snapshot.js";
import { positiveOption } from "./lib/args.js";

export type Part = "snapshot" | "daily" | "monthly";
const PARTS: readonly Part[] = ["snapshot", "daily", "monthly"];

export interface VsphereBenchOptions {
  vms: number;
  rollupVms: number;
  days: number;
  runs: number;
  only?: Part | undefined;
  /** PostgreSQL to compare on; undefined runs the rollups on SQLite only. */
  pgUrl?: string | undefined;
  log?: (line: string) => void;
}

export const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";

export const DEFAULT_OPTIONS = { vms: 5000, rollupVms: 100_000, days: 31, runs: 3 } as const;

/** The issue's targets: ours within 1.3× govmomi, each rollup within 1.5× the limit, daily on SQLite within 5 s. */
export const SNAPSHOT_MAX_RATIO = 1.3;
export const ROLLUP_MAX_RATIO = 1.5;
export const SQLITE_DAILY_MAX_SECONDS = 5;

export interface Target {
  name: string;
  measured: string;
  pass: boolean;
}

export interface VsphereBenchResult {
  bench: "vsphere";
  started_at: string;
  machine: {
    cpus: number;
    cpu_model: string;
    memory_mb: number;
    node: string;
    platform: string;
    /** 1-minute load average before the bench: other work on the machine inflates wall times. */
    load_average: number;
  };
  config: { vms: number; rollup_vms: number; vcenters: number; days: number; runs: number; parts: Part[] };
  snapshot: SnapshotResult | null;
  rollups: DialectResult[];
  /** Why a part did not run, e.g. PostgreSQL unreachable. */
  skipped: string[];
  targets: Target[];
  duration_seconds: number;
}

function targets(snapshot: SnapshotResult | null, rollups: DialectResult[]): Target[] {
  const out: Target[] = [];
  if (snapshot) {
    out.push({
      name: `snapshot of ${snapshot.vms} VMs ≤ ${SNAPSHOT_MAX_RATIO}× govmomi (best of ${snapshot.runs})`,
      measured: `${snapshot.ratio_best}× (${snapshot.ours.best_s} s vs ${snapshot.baseline.best_s} s)`,
      pass: snapshot.ratio_best <= SNAPSHOT_MAX_RATIO,
    });
  }
  for (const r of rollups) {
    for (const c of [r.daily, r.monthly]) {
      if (!c) continue;
      out.push({
        name: `${r.dialect} ${c.period} ≤ ${ROLLUP_MAX_RATIO}× the limit (best of ${c.ours.runs_s.length})`,
        measured: `${c.ratio_best}× (${c.ours.best_s} s vs ${c.limit.best_s} s)`,
        pass: c.ratio_best <= ROLLUP_MAX_RATIO,
      });
      out.push({
        name: `${r.dialect} ${c.period}: ours writes the limit's rows`,
        measured: `${c.matched_rows} of ${c.rows_ours} rows equal (limit ${c.rows_limit})`,
        pass: c.rows_ours > 0 && c.rows_ours === c.rows_limit && c.matched_rows === c.rows_ours,
      });
      if (r.dialect === "sqlite" && c.period === "daily") {
        out.push({
          name: `sqlite daily ≤ ${SQLITE_DAILY_MAX_SECONDS} s`,
          measured: `${c.ours.best_s} s`,
          pass: c.ours.best_s <= SQLITE_DAILY_MAX_SECONDS,
        });
      }
    }
  }
  return out;
}

export async function runVsphereBench(options: VsphereBenchOptions): Promise<VsphereBenchResult> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  const started = performance.now();
  const parts = options.only ? [options.only] : [...PARTS];
  const periods = parts.filter((p): p is Period => p !== "snapshot");
  const skipped: string[] = [];
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? "unknown",
    memory_mb: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    load_average: round(os.loadavg()[0] ?? 0, 2),
  };

  let snapshot: SnapshotResult | null = null;
  if (parts.includes("snapshot")) {
    log(`snapshot: ${options.vms} VMs, ${options.runs} runs each`);
    snapshot = await benchSnapshot(options.vms, options.runs, log);
  }

  const rollups: DialectResult[] = [];
  if (periods.length > 0) {
    const rollupOptions = { vms: options.rollupVms, days: options.days, runs: options.runs, periods, log };
    log(`rollups on SQLite: ${options.rollupVms} VMs, ${periods.join(" + ")}`);
    rollups.push(await benchRollups("sqlite", undefined, rollupOptions));
    const unreachable = options.pgUrl ? await postgresUnreachable(options.pgUrl) : "no --pg URL given";
    if (unreachable) {
      skipped.push(`PostgreSQL rollups skipped: ${unreachable}`);
      log(`PostgreSQL skipped: ${unreachable}`);
    } else {
      log(`rollups on PostgreSQL: ${options.rollupVms} VMs, ${periods.join(" + ")}`);
      rollups.push(await benchRollups("postgres", options.pgUrl, rollupOptions));
    }
  }

  return {
    bench: "vsphere",
    started_at: startedAt.toISOString(),
    machine,
    config: {
      vms: options.vms,
      rollup_vms: options.rollupVms,
      vcenters: VCENTERS,
      days: options.days,
      runs: options.runs,
      parts,
    },
    snapshot,
    rollups,
    skipped,
    targets: targets(snapshot, rollups),
    duration_seconds: round((performance.now() - started) / 1000, 1),
  };
}

const cpu = (value: number | null) => (value === null ? "n/a" : `${value.toFixed(2)} s`);

function rollupRow(dialect: string, c: RollupCase): string {
  return [
    dialect,
    c.period,
    c.input_rows.toLocaleString("en"),
    `${c.ours.best_s.toFixed(2)} / ${c.ours.median_s.toFixed(2)}`,
    `${c.limit.best_s.toFixed(2)} / ${c.limit.median_s.toFixed(2)}`,
    `**${c.ratio_best.toFixed(2)}×** / ${c.ratio_median.toFixed(2)}×`,
    `${cpu(c.ours.best_cpu_s)} / ${cpu(c.limit.best_cpu_s)} (${c.ratio_best_cpu === null ? "n/a" : `${c.ratio_best_cpu.toFixed(2)}×`})`,
    `${c.rows_ours.toLocaleString("en")} / ${c.rows_limit.toLocaleString("en")} (${c.matched_rows.toLocaleString("en")} equal)`,
    c.ratio_best <= ROLLUP_MAX_RATIO ? "PASS" : "FAIL",
  ].join(" | ");
}

export function formatReport(r: VsphereBenchResult): string {
  const m = r.machine;
  const lines = [
    `Fleetledger vCenter bench: ${r.config.parts.join(", ")}; ${r.config.runs} alternating runs of ours and the reference each, best / median`,
    `machine: ${m.cpus} × ${m.cpu_model}, ${m.memory_mb.toLocaleString("en")} MB RAM, Node ${m.node}, ${m.platform}, load average ${m.load_average} before the run`,
  ];
  const s = r.snapshot;
  if (s) {
    lines.push(
      "",
      `(a) snapshot of ${s.vms} VMs (vcsim): ours ${s.ours.best_s} / ${s.ours.median_s} s, ${s.ours.round_trips} round trips, ${s.ours.rows} rows; ` +
        `govmomi ContainerView.Retrieve ${s.baseline.best_s} / ${s.baseline.median_s} s (${s.baseline.vms} VMs + ${s.baseline.entities} placement objects); ` +
        `ratio ${s.ratio_best}× best, ${s.ratio_median}× median`,
    );
  }
  if (r.rollups.length > 0) {
    lines.push(
      "",
      `(b) rollups of ${r.config.rollup_vms.toLocaleString("en")} VMs over ${r.config.vcenters} vCenters (daily: 24 snapshots; monthly: ${r.config.days} daily rows each)`,
      "",
      "| database | rollup | input rows | ours s best / median | limit s best / median | ours / limit best / median | CPU ours / limit (ratio) | rows ours / limit | ≤ 1.5× |",
      "|---|---|---|---|---|---|---|---|---|",
      ...r.rollups.flatMap((d) =>
        [d.daily, d.monthly].filter((c): c is RollupCase => !!c).map((c) => `| ${rollupRow(d.dialect, c)} |`),
      ),
      "",
      ...r.rollups.map(
        (d) =>
          `${d.dialect}: ours on ${d.versions.ours}, limit in ${d.versions.shell}; set-up ${JSON.stringify(d.setup_seconds)} s`,
      ),
    );
  }
  lines.push(
    ...r.skipped.map((note) => `note: ${note}`),
    "",
    "targets:",
    ...r.targets.map((t) => `  ${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.measured}`),
    "",
    `total ${r.duration_seconds} s`,
  );
  return `${lines.join("\n")}\n`;
}

export const USAGE = `usage: npm run bench -- vsphere [options]

(a) collectInventory against a vcsim inventory, alternating with the govmomi baseline program (ratio target
≤ ${SNAPSHOT_MAX_RATIO}×); (b) aggregateDaily and aggregateMonthly on SQLite and PostgreSQL against the same rollup as one
hand-tuned INSERT … SELECT run in sqlite3 / psql (target ≤ ${ROLLUP_MAX_RATIO}×, daily on SQLite ≤ ${SQLITE_DAILY_MAX_SECONDS} s). Inputs are
generated inside the database. Writes bench/results/vsphere-<timestamp>.json.

options:
  --vms N            VMs in the simulator (default ${DEFAULT_OPTIONS.vms})
  --rollup-vms N     VMs in the rollups (default ${DEFAULT_OPTIONS.rollupVms.toLocaleString("en")})
  --days N           days of daily rows in the monthly rollup, at most 31 (default ${DEFAULT_OPTIONS.days})
  --runs N           timed runs of each side (default ${DEFAULT_OPTIONS.runs})
  --only PART        snapshot, daily or monthly
  --pg URL|off       PostgreSQL for the rollups (default FLEETLEDGER_TEST_DATABASE_URL or ${DEFAULT_PG_URL});
                     off, or an unreachable server, runs them on SQLite only
  -h, --help         this text
`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      vms: { type: "string" },
      "rollup-vms": { type: "string" },
      days: { type: "string" },
      runs: { type: "string" },
      only: { type: "string" },
      pg: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.only !== undefined && !PARTS.includes(values.only as Part)) {
    throw new RangeError(`--only must be one of ${PARTS.join(", ")} (got "${values.only}")`);
  }
  const pg = values.pg ?? process.env.FLEETLEDGER_TEST_DATABASE_URL ?? DEFAULT_PG_URL;
  const result = await runVsphereBench({
    vms: positiveOption("vms", values.vms, DEFAULT_OPTIONS.vms),
    rollupVms: positiveOption("rollup-vms", values["rollup-vms"], DEFAULT_OPTIONS.rollupVms),
    days: positiveOption("days", values.days, DEFAULT_OPTIONS.days, { max: 31 }),
    runs: positiveOption("runs", values.runs, DEFAULT_OPTIONS.runs),
    only: values.only as Part | undefined,
    pgUrl: pg === "off" ? undefined : pg,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(formatReport(result));
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = join(dir, `vsphere-${result.started_at.replaceAll(":", "-").replace(/\.\d+Z$/, "Z")}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nresult: ${file}\n`);
  return result.targets.every((t) => t.pass) ? 0 : 1;
}

import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { buildAgentBundle } from "../src/agent/build.js";
import { enrol } from "../src/agent/enroll.js";
import { AGENT_NODE_FLAGS } from "../src/agent/service.js";
import { createContext } from "../src/app/context.js";
import { startServer } from "../src/app/server.js";
import { createToken } from "../src/auth/tokens.js";
import { loadSettings } from "../src/config/load.js";
import { startDockerSim } from "../src/sim/docker.js";
import { cpuSeconds, rssBytes } from "./lib/fleetledger.js";
import { round, sleep } from "./lib/stats.js";

export interface AgentBenchOptions {
  /** Cycles at the short interval; CPU per cycle is measured over them. */
  cycles: number;
  shortIntervalMs: number;
  /** Seconds at the real 30 s interval (0 skips that phase). */
  durationSeconds: number;
  containers: number;
  log?: (line: string) => void;
}

export interface AgentBenchResult {
  cpu_ms_per_cycle: number;
  core_percent_at_30s: number;
  rss_mb_max: number;
  real_interval?: { seconds: number; core_percent: number; rss_mb_max: number };
  metric_points: number;
  log_lines: number;
  /** Inventory documents stored: the host facts, read by the agent's child process, reached the server. */
  inventory_records: number;
  targets: { core_percent: number; rss_mb: number };
}

/**
 * The agent as the systemd unit runs it (the bundle `fleetledger agent build` writes, built here from the current
 * sources, with the unit's Node flags) in a child process, with the os and docker exporters (against the Docker
 * simulator) and a file log, pushing to a real server in this process. CPU is read from /proc/<pid>/stat, RSS from
 * /proc/<pid>/status.
 */
export async function runAgentBench(options: AgentBenchOptions): Promise<AgentBenchResult> {
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), "fleetledger-agent-bench-"));
  const settings = loadSettings({ dataDir: join(dir, "server"), env: {}, cwd: dir });
  settings.log.level = "silent";
  const ctx = await createContext(settings, { logger: pino({ level: "silent" }) });
  const { app, address } = await startServer(ctx, 0, "127.0.0.1");
  const sim = await startDockerSim({ socketPath: join(dir, "docker.sock") });
  const names: string[] = [];
  for (let i = 0; i < options.containers; i++) {
    names.push(`app-${i}`);
    sim.addContainer({
      name: `app-${i}`,
      labels: { "com.docker.compose.project": `stack-${i % 3}` },
      cpuPercent: 5 + i,
    });
  }
  const logFile = join(dir, "app.log");
  writeFileSync(logFile, "");
  const writer = setInterval(
    () => appendFileSync(logFile, `${new Date().toISOString()} request served in 12 ms\n`),
    1000,
  );
  const stateDir = join(dir, "state");
  const agents: ChildProcess[] = [];
  try {
    const token = await createToken(ctx.database.db, "bench", "enroll");
    await enrol({ server: address, token, stateDir, machineId: null, hwHash: "bench" });
    const config = (interval: string) => {
      const file = join(dir, `agent-${interval}.yml`);
      writeFileSync(
        file,
        [
          `state_dir: ${stateDir}`,
          `interval: ${interval}`,
          "inventory_interval: 1h",
          "log_level: warn",
          "exporters:",
          `  docker: { socket: ${sim.socketPath} }`,
          "  nvidia: { enabled: false }",
          "  ipmi: { enabled: false }",
          "  nvme: { enabled: false }",
          "logs:",
          "  journal: { enabled: false }",
          "  syslog: { enabled: false }",
          "  dmesg: { enabled: false }",
          `  files: [{ name: app, path: ${logFile} }]`,
          "",
        ].join("\n"),
      );
      return file;
    };
    const { path: bundle } = await buildAgentBundle(join(dir, "fleetledger-agent.mjs"));
    const startAgent = (file: string) => {
      const agent = spawn(process.execPath, [...AGENT_NODE_FLAGS, bundle, "run", "--config", file], {
        stdio: ["ignore", "ignore", "inherit"],
      });
      agents.push(agent);
      return agent;
    };
    // An agent that died (bad config, a crash) would otherwise leave the bench reading a missing /proc entry.
    const alive = (agent: ChildProcess) => {
      if (agent.exitCode !== null) throw new Error(`the agent exited with code ${agent.exitCode}`);
    };
    const stop = async (agent: ChildProcess) => {
      const exited = new Promise((resolve) => agent.once("exit", resolve));
      agent.kill("SIGTERM");
      await exited;
    };

    const short = startAgent(config(`${options.shortIntervalMs}ms`));
    const pid = short.pid as number;
    let rssMax = 0;
    // Start-up (module loading, probes, the first inventory) is not per-cycle cost: measure after it.
    await sleep(Math.max(3000, options.shortIntervalMs * 3));
    const cpu0 = (await cpuSeconds(pid)) ?? 0;
    const t0 = Date.now();
    for (let i = 0; i < options.cycles; i++) {
      await sleep(options.shortIntervalMs);
      alive(short);
      rssMax = Math.max(rssMax, (await rssBytes(pid)) ?? 0);
    }
    const cpu1 = (await cpuSeconds(pid)) ?? 0;
    const cycles = (Date.now() - t0) / options.shortIntervalMs;
    alive(short);
    await stop(short);
    const cpuMsPerCycle = ((cpu1 - cpu0) * 1000) / cycles;
    log(`short interval: ${round(cycles, 1)} cycles, ${round(cpuMsPerCycle, 2)} ms CPU per cycle`);

    let realInterval: AgentBenchResult["real_interval"];
    if (options.durationSeconds > 0) {
      const real = startAgent(config("30s"));
      const realPid = real.pid as number;
      await sleep(5000);
      const c0 = (await cpuSeconds(realPid)) ?? 0;
      const started = Date.now();
      let realRss = 0;
      while (Date.now() - started < options.durationSeconds * 1000) {
        await sleep(5000);
        alive(real);
        realRss = Math.max(realRss, (await rssBytes(realPid)) ?? 0);
      }
      const c1 = (await cpuSeconds(realPid)) ?? 0;
      const seconds = (Date.now() - started) / 1000;
      alive(real);
      await stop(real);
      realInterval = {
        seconds: round(seconds, 0),
        core_percent: round(((c1 - c0) / seconds) * 100, 3),
        rss_mb_max: round(realRss / 2 ** 20, 1),
      };
      log(`30 s interval for ${realInterval.seconds} s: ${realInterval.core_percent} % of a core`);
    }
    const points = await ctx.database.db
      .selectFrom("metric_points")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    const lines = await ctx.database.db
      .selectFrom("log_entries")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    const inventories = await ctx.database.db
      .selectFrom("inventory_records")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return {
      cpu_ms_per_cycle: round(cpuMsPerCycle, 2),
      core_percent_at_30s: round((cpuMsPerCycle / 30_000) * 100, 3),
      rss_mb_max: round(rssMax / 2 ** 20, 1),
      ...(realInterval ? { real_interval: realInterval } : {}),
      metric_points: Number(points.n),
      log_lines: Number(lines.n),
      inventory_records: Number(inventories.n),
      targets: { core_percent: 1, rss_mb: 80 },
    };
  } finally {
    for (const agent of agents) if (agent.exitCode === null) agent.kill("SIGKILL");
    clearInterval(writer);
    await sim.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cycles: { type: "string", default: "40" },
      "short-interval": { type: "string", default: "1000" },
      duration: { type: "string", default: "180" },
      containers: { type: "string", default: "10" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      "npm run bench -- agent [--cycles 40] [--short-interval 1000 (ms)] [--duration 180 (s at the 30 s interval, 0 skips)] [--containers 10] [--json]\n",
    );
    return 0;
  }
  const result = await runAgentBench({
    cycles: Number(values.cycles),
    shortIntervalMs: Number(values["short-interval"]),
    durationSeconds: Number(values.duration),
    containers: Number(values.containers),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const rows = [
      ["CPU per cycle", `${result.cpu_ms_per_cycle} ms`, ""],
      ["% of one core at 30 s (extrapolated)", `${result.core_percent_at_30s} %`, "≤ 1 %"],
      ["RSS max (short interval)", `${result.rss_mb_max} MB`, "≤ 80 MB"],
      ...(result.real_interval
        ? [
            [
              `% of one core at 30 s (measured, ${result.real_interval.seconds} s)`,
              `${result.real_interval.core_percent} %`,
              "≤ 1 %",
            ],
            ["RSS max (30 s interval)", `${result.real_interval.rss_mb_max} MB`, "≤ 80 MB"],
          ]
        : []),
      [
        "metric points / log lines / inventories stored",
        `${result.metric_points} / ${result.log_lines} / ${result.inventory_records}`,
        "",
      ],
    ];
    for (const [what, value, target] of rows)
      process.stdout.write(`${(what as string).padEnd(48)} ${(value as string).padStart(14)}  ${target}\n`);
  }
  return 0;
}

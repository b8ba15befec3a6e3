import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BIN = fileURLToPath(new URL("../../bin/fleetledger.js", import.meta.url));
const run = promisify(execFile);

/**
 * The caller's FLEETLEDGER_* variables (a PostgreSQL URL, a config file) would silently change what is measured,
 * so children see only the settings the bench passes.
 */
export function childEnv(settings: Record<string, string>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("FLEETLEDGER_")) env[name] = value;
  return { ...env, ...extra, ...settings };
}

/** Runs one real CLI command with `--json` and returns its parsed output. */
export async function cliJson<T>(dataDir: string, args: string[]): Promise<T> {
  try {
    const { stdout } = await run(process.execPath, [BIN, "--data-dir", dataDir, ...args, "--json"], {
      cwd: dataDir,
      env: childEnv({}),
      timeout: 120_000,
    });
    return JSON.parse(stdout) as T;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`fleetledger ${args.join(" ")} failed: ${stderr || (err as Error).message}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface FleetledgerProcess {
  child: ChildProcess;
  pid: number;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerProcess extends FleetledgerProcess {
  url: string;
}

const OUTPUT_TAIL = 16_384;

/** A long-running CLI command (serve, worker) in a child process of its own. */
export function spawnFleetledger(
  args: string[],
  dataDir: string,
  settings: Record<string, string>,
  extraEnv: NodeJS.ProcessEnv = {},
): FleetledgerProcess {
  const child = spawn(process.execPath, [BIN, ...args, "--data-dir", dataDir], {
    cwd: dataDir,
    env: childEnv(settings, extraEnv),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    pid: child.pid ?? -1,
    output: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      // A graceful exit is what writes --cpu-prof profiles; a hung shutdown must still not hang the bench.
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function startServer(
  dataDir: string,
  settings: Record<string, string>,
  extraEnv: NodeJS.ProcessEnv = {},
  args: string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const server = {
    ...spawnFleetledger(
      ["serve", "--port", String(port), ...args],
      dataDir,
      { FLEETLEDGER_SERVER__HOST: "127.0.0.1", ...settings },
      extraEnv,
    ),
    url: `http://127.0.0.1:${port}`,
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`the server exited during start-up:\n${server.output()}`);
    try {
      if ((await fetch(`${server.url}/readyz`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.stop();
  throw new Error(`the server did not become ready within 60 s:\n${server.output()}`);
}

/** `fleetledger worker`, returned once it says it runs (its log level is raised to info for that line). */
export async function startWorker(dataDir: string, settings: Record<string, string>): Promise<FleetledgerProcess> {
  const worker = spawnFleetledger(["worker"], dataDir, { ...settings, FLEETLEDGER_LOG__LEVEL: "info" });
  const deadline = Date.now() + 60_000;
  while (!worker.output().includes("worker running")) {
    if (worker.child.exitCode !== null) throw new Error(`the worker exited during start-up:\n${worker.output()}`);
    if (Date.now() > deadline) {
      await worker.stop();
      throw new Error(`the worker did not start within 60 s:\n${worker.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return worker;
}

/** Resident set size of a process in bytes, or undefined where /proc is not available. */
export async function rssBytes(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, or undefined where /proc is not available. */
/** CPU seconds used so far by each thread of a process, keyed by `name/tid` (the kernel's thread name). */
export async function threadCpuSeconds(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const [stat, comm] = await Promise.all([
        readFile(`/proc/${pid}/task/${tid}/stat`, "utf8"),
        readFile(`/proc/${pid}/task/${tid}/comm`, "utf8"),
      ]);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(`${comm.trim()}/${tid}`, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces, so fields are counted from after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of proc(5), in USER_HZ ticks, which Linux fixes at 100 per second.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

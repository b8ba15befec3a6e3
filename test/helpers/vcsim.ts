import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CACHE_DIR = join(ROOT, "node_modules/.cache/fleetledger");
const GOCODE = "/usr/share/gocode";
const SIMULATOR_SOURCE = join(GOCODE, "src/github.com/vmware/govmomi/simulator");
const PACKAGES = "golang-go golang-github-vmware-govmomi-dev";

export interface VcsimOptions {
  datacenters?: number;
  clustersPerDatacenter?: number;
  hostsPerCluster?: number;
  standaloneHosts?: number;
  /** Child resource pools per cluster, besides the root pool "Resources". */
  poolsPerCluster?: number;
  /** Names given in turn to each cluster's child pools, e.g. vCTP's tiers ["Tin", "Gold"]. */
  poolNames?: string[];
  /** Total VMs, spread over datacenters, pools and vm folders. */
  vms?: number;
  /** Depth of the nested folder chain under each datacenter's vm folder. */
  vmFolders?: number;
  username?: string;
  password?: string;
  /** Plain HTTP instead of TLS with the simulator's self-signed certificate. */
  http?: boolean;
  /** How long to wait for the simulator to build its inventory and listen (default 120 s). */
  startTimeoutMs?: number;
}

export interface Vcsim {
  /** The SDK URL, e.g. `https://127.0.0.1:40123/sdk`. */
  url: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", fail);
    child.on("exit", (code) =>
      code === 0 ? done() : fail(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${stderr}`)),
    );
  });
}

function goAvailable(): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn("go", ["version"], { stdio: "ignore" });
    child.on("error", () => done(false));
    child.on("exit", (code) => done(code === 0));
  });
}

/** The Go programs under test/vsphere/: the simulator, and the govmomi client the collector is timed against. */
export type GoTool = "vcsim" | "baseline";

/**
 * Builds test/vsphere/<tool> once into node_modules/.cache/fleetledger/<tool>, again whenever its main.go is
 * newer than the binary. Debian ships govmomi as GOPATH sources, hence GOPATH mode.
 */
export async function buildGoTool(tool: GoTool): Promise<string> {
  const binary = join(CACHE_DIR, tool);
  const source = join(ROOT, "test/vsphere", tool, "main.go");
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  if (!existsSync(SIMULATOR_SOURCE) || !(await goAvailable())) {
    throw new Error(
      `${tool} needs Go and the govmomi sources: install the Debian packages ${PACKAGES} ` +
        `(apt-get install -y ${PACKAGES})`,
    );
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const gopath = mkdtempSync(join(tmpdir(), "fleetledger-gopath-"));
  // Parallel test workers may build at once: each writes its own file and the rename makes the result atomic.
  const output = `${binary}.${process.pid}.tmp`;
  try {
    await run("go", ["build", "-o", output, `./test/vsphere/${tool}`], {
      ...process.env,
      GO111MODULE: "off",
      GOPATH: `${gopath}:${GOCODE}`,
      GOCACHE: process.env.GOCACHE ?? join(CACHE_DIR, "go-build"),
      GOFLAGS: "",
    });
    renameSync(output, binary);
  } finally {
    rmSync(output, { force: true });
    rmSync(gopath, { recursive: true, force: true });
  }
  return binary;
}

function flags(options: VcsimOptions, username: string, password: string): string[] {
  const args = ["-stdin-watch", "-username", username, "-password", password];
  const numeric: [string, number | undefined][] = [
    ["-dc", options.datacenters],
    ["-cluster", options.clustersPerDatacenter],
    ["-host", options.hostsPerCluster],
    ["-standalone-host", options.standaloneHosts],
    ["-pool", options.poolsPerCluster],
    ["-vm", options.vms],
    ["-vmfolder", options.vmFolders],
  ];
  for (const [flag, value] of numeric) if (value !== undefined) args.push(flag, String(value));
  if (options.http) args.push("-http");
  if (options.poolNames) args.push("-pool-names", options.poolNames.join(","));
  return args;
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(kill);
      done();
    });
    child.kill("SIGTERM");
  });
}

/** Starts a simulator with the given inventory and resolves once it prints its SDK URL. */
export async function startVcsim(options: VcsimOptions = {}): Promise<Vcsim> {
  const binary = await buildGoTool("vcsim");
  const username = options.username ?? "fleetledger";
  const password = options.password ?? "vcsim-secret";
  const child = spawn(binary, flags(options, username, password), { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4096);
  });

  const url = await new Promise<string>((done, fail) => {
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`vcsim did not start within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      clearTimeout(timer);
      lines.close();
      done(line.trim());
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`vcsim exited before it was ready (${signal ?? code}):\n${stderr}`));
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
  });

  return { url, username, password, stop: () => stopProcess(child) };
}

export interface BaselineTiming {
  vms: number;
  entities: number;
  ms: number;
}

/** One run of govmomi's ContainerView.Retrieve collection (test/vsphere/baseline) against a simulator. */
export async function runBaseline(sim: Vcsim): Promise<BaselineTiming> {
  const binary = await buildGoTool("baseline");
  const args = ["-url", sim.url, "-username", sim.username, "-password", sim.password];
  const stdout = await new Promise<string>((done, fail) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("error", fail);
    child.on("exit", (code) => (code === 0 ? done(out) : fail(new Error(`baseline exited with ${code}:\n${err}`))));
  });
  return JSON.parse(stdout) as BaselineTiming;
}

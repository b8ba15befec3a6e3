import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerExporter } from "../../src/agent/exporters/docker.js";
import { dockerLogSource } from "../../src/agent/logs/docker.js";
import { type DockerSim, startDockerSim } from "../../src/sim/docker.js";
import { tempDir } from "./helpers.js";

function get(socketPath: string, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers["content-type"]),
          body: Buffer.concat(chunks),
        }),
      );
    })
      .on("error", reject)
      .end();
  });
}

const MIB = 1024 * 1024;

describe("Docker exporter and container logs against the Docker Engine API simulator", () => {
  const dir = tempDir("fleetledger-docker-");
  let sim: DockerSim;
  let web: string;

  beforeAll(async () => {
    sim = await startDockerSim({ socketPath: join(dir.dir, "docker.sock") });
    web = sim.addContainer({
      name: "shop-web-1",
      labels: { "com.docker.compose.project": "shop" },
      cpuPercent: 37.5,
      onlineCpus: 8,
      memoryUsageBytes: 300 * MIB,
      memoryInactiveFileBytes: 44 * MIB,
      memoryLimitBytes: 1024 * MIB,
    });
    sim.addContainer({
      name: "redis",
      labels: { "com.docker.stack.namespace": "cache" },
      cgroup: 1,
      cpuPercent: 150,
      onlineCpus: 4,
      memoryUsageBytes: 50 * MIB,
      memoryInactiveFileBytes: 16 * MIB,
      tty: true,
    });
    sim.addContainer({ name: "loose", cpuPercent: 1 });
    sim.addContainer({ name: "old-job", running: false });
  });
  afterAll(async () => {
    await sim.close();
    dir.remove();
  });

  it("reports CPU %, memory and limit per running container with its stack", async () => {
    const exporter = dockerExporter(sim.socketPath, 5000);
    expect(await exporter.probe()).toEqual({ ok: true });
    const { metrics, warnings } = await exporter.collect(1_714_644_933);
    expect(warnings).toEqual([]);
    const table = metrics.map((m) => [m.metric_name, m.labels, Math.round(m.value * 1000) / 1000]);
    expect(table).toEqual([
      ["container_cpu_percent", { container: "shop-web-1", stack: "shop" }, 37.5],
      ["container_mem_usage_mb", { container: "shop-web-1", stack: "shop" }, 256],
      ["container_mem_limit_mb", { container: "shop-web-1", stack: "shop" }, 1024],
      ["container_cpu_percent", { container: "redis", stack: "cache" }, 150],
      ["container_mem_usage_mb", { container: "redis", stack: "cache" }, 34],
      ["container_mem_limit_mb", { container: "redis", stack: "cache" }, 8192],
      ["container_cpu_percent", { container: "loose" }, 1],
      ["container_mem_usage_mb", { container: "loose" }, 64],
      ["container_mem_limit_mb", { container: "loose" }, 8192],
    ]);
  });

  it("disables itself with the reason when the socket is absent", async () => {
    const exporter = dockerExporter(join(dir.dir, "missing.sock"), 1000);
    expect(await exporter.probe()).toEqual({
      ok: false,
      reason: `no Docker socket at ${join(dir.dir, "missing.sock")}`,
    });
  });

  it("serves versioned paths, label filters, all=1 and Docker's 404 body", async () => {
    const all = await get(sim.socketPath, "/v1.43/containers/json?all=1");
    expect(JSON.parse(all.body.toString()).map((c: { Names: string[] }) => c.Names[0])).toEqual([
      "/shop-web-1",
      "/redis",
      "/loose",
      "/old-job",
    ]);
    const filtered = await get(
      sim.socketPath,
      `/v1.43/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: ["com.docker.compose.project=shop"] }))}`,
    );
    expect(JSON.parse(filtered.body.toString()).map((c: { Id: string }) => c.Id)).toEqual([web]);
    const missing = await get(sim.socketPath, "/v1.43/containers/4b1c0e8a/stats?stream=false");
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toEqual({ message: "No such container: 4b1c0e8a" });
  });

  it("frames non-TTY logs as multiplexed streams and TTY logs raw", async () => {
    sim.appendLog("shop-web-1", "stdout", "GET / 200", new Date("2024-05-02T10:15:30.001Z"));
    sim.appendLog("shop-web-1", "stderr", "upstream timed out", new Date("2024-05-02T10:15:31Z"));
    sim.appendLog("redis", "stdout", "Ready to accept connections", new Date("2024-05-02T10:15:30Z"));
    const muxed = await get(sim.socketPath, `/containers/${web}/logs?stdout=1&stderr=1&timestamps=1`);
    expect(muxed.type).toBe("application/vnd.docker.multiplexed-stream");
    const first = "2024-05-02T10:15:30.001000000Z GET / 200\n";
    expect(muxed.body.subarray(0, 8)).toEqual(Buffer.from([1, 0, 0, 0, 0, 0, 0, first.length]));
    expect(muxed.body.subarray(8, 8 + first.length).toString()).toBe(first);
    expect(muxed.body[8 + first.length]).toBe(2);
    const stdoutOnly = await get(sim.socketPath, `/containers/${web}/logs?stdout=1&stderr=0`);
    expect(stdoutOnly.body.subarray(8).toString()).toBe("GET / 200\n");
    const raw = await get(sim.socketPath, "/containers/redis/logs?stdout=1&stderr=1&timestamps=1");
    expect(raw.type).toBe("application/vnd.docker.raw-stream");
    expect(raw.body.toString()).toBe("2024-05-02T10:15:30.000000000Z Ready to accept connections\n");
  });

  it("reads container logs after the cursor, demultiplexed, one source per container", async () => {
    let now = Date.parse("2024-05-02T10:20:00Z");
    const source = dockerLogSource(sim.socketPath, 5000, () => now);
    expect(await source.probe()).toEqual({ ok: true });
    const first = await source.read(undefined, 100);
    expect(first.logs.map((l) => [l.log_source, l.content, l.severity, l.log_timestamp])).toEqual([
      ["docker:shop-web-1", "GET / 200", null, 1714644930.001],
      ["docker:shop-web-1", "upstream timed out", null, 1714644931],
      ["docker:redis", "Ready to accept connections", null, 1714644930],
    ]);
    // Same nanosecond as the cursor: `since` is inclusive, so the agent must skip it itself.
    sim.appendLog("shop-web-1", "stderr", "ERROR: payment backend failed", 1714644931000000000n);
    sim.appendLog("shop-web-1", "stderr", "ERROR: payment backend failed again", 1714644931000000001n);
    now += 30_000;
    const second = await source.read(first.cursor, 100);
    expect(second.logs.map((l) => [l.log_source, l.content, l.severity])).toEqual([
      ["docker:shop-web-1", "ERROR: payment backend failed again", "ERROR"],
    ]);
    expect((await source.read(second.cursor, 100)).logs).toEqual([]);
  });
});

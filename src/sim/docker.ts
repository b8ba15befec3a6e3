import { randomBytes } from "node:crypto";
import { existsSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A Docker Engine API simulator: the endpoints the agent uses, with the daemon's JSON shapes and its log stream
 * framing, served on a unix socket (as dockerd does) and optionally on TCP. Container CPU and memory figures are set
 * per container; the simulated counters advance so Docker's CPU formula yields exactly the configured percentage.
 */

export interface SimContainerSpec {
  name: string;
  image?: string;
  labels?: Record<string, string>;
  running?: boolean;
  tty?: boolean;
  cpuPercent?: number;
  onlineCpus?: number;
  memoryUsageBytes?: number;
  /** Page cache the kernel can reclaim; `docker stats` subtracts it from usage. */
  memoryInactiveFileBytes?: number;
  memoryLimitBytes?: number;
  /** cgroup v1 daemons report `total_inactive_file` and per-CPU usage instead of `inactive_file`/`online_cpus`. */
  cgroup?: 1 | 2;
}

interface LogLine {
  stream: "stdout" | "stderr";
  text: string;
  /** Nanoseconds since the epoch. */
  at: bigint;
}

interface SimContainer extends Required<Omit<SimContainerSpec, "labels">> {
  id: string;
  labels: Record<string, string>;
  created: number;
  logs: LogLine[];
  cpuTotal: number;
  systemTotal: number;
}

export interface DockerSim {
  socketPath: string;
  /** http://127.0.0.1:port when started with a TCP port. */
  url: string | undefined;
  addContainer(spec: SimContainerSpec): string;
  removeContainer(idOrName: string): void;
  setStats(
    idOrName: string,
    stats: Partial<Pick<SimContainerSpec, "cpuPercent" | "memoryUsageBytes" | "memoryLimitBytes">>,
  ): void;
  appendLog(idOrName: string, stream: "stdout" | "stderr", text: string, at?: Date | bigint): void;
  /** Requests served, by path without the API version, for tests that count calls. */
  requests: string[];
  close(): Promise<void>;
}

const NS_PER_MS = 1_000_000n;

export async function startDockerSim(options: {
  socketPath: string;
  port?: number;
  statsDelayMs?: number;
}): Promise<DockerSim> {
  const containers: SimContainer[] = [];
  const requests: string[] = [];

  const find = (ref: string): SimContainer | undefined =>
    containers.find((c) => c.id === ref || c.name === ref.replace(/^\//, "")) ??
    (ref.length >= 3 ? single(containers.filter((c) => c.id.startsWith(ref))) : undefined);

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://docker");
    // dockerode and the docker CLI prefix paths with the API version they speak (/v1.43/containers/json).
    const path = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, "");
    requests.push(path);
    if (req.method === "GET" && (path === "/_ping" || path === "/version")) {
      if (path === "/_ping") return send(res, 200, "OK", "text/plain; charset=utf-8");
      return json(res, 200, { Version: "24.0.9-sim", ApiVersion: "1.43", MinAPIVersion: "1.12", Os: "linux" });
    }
    if (req.method === "GET" && path === "/containers/json") return json(res, 200, list(url));
    const m = /^\/containers\/([^/]+)\/(json|stats|logs)$/.exec(path);
    if (!m || req.method !== "GET") return json(res, 404, { message: "page not found" });
    const ref = decodeURIComponent(m[1] as string);
    const container = find(ref);
    if (!container) return json(res, 404, { message: `No such container: ${ref}` });
    if (m[2] === "json") return json(res, 200, inspect(container));
    if (m[2] === "stats") {
      if (url.searchParams.get("stream") !== "false" && url.searchParams.get("stream") !== "0") {
        return json(res, 400, { message: "the simulator serves only stream=false stats" });
      }
      const oneShot = url.searchParams.get("one-shot") === "true" || url.searchParams.get("one-shot") === "1";
      const answer = () => json(res, 200, stats(container, oneShot));
      if (options.statsDelayMs && !oneShot) setTimeout(answer, options.statsDelayMs);
      else answer();
      return;
    }
    return logs(res, container, url.searchParams);
  };

  const list = (url: URL) => {
    const all = ["1", "true"].includes(url.searchParams.get("all") ?? "");
    let labelFilters: string[] = [];
    const filters = url.searchParams.get("filters");
    if (filters) {
      try {
        const parsed = JSON.parse(filters) as { label?: string[] | Record<string, boolean> };
        labelFilters = Array.isArray(parsed.label) ? parsed.label : Object.keys(parsed.label ?? {});
      } catch {
        labelFilters = [];
      }
    }
    return containers
      .filter((c) => all || c.running)
      .filter((c) =>
        labelFilters.every((f) => {
          const [key, value] = f.split("=", 2) as [string, string | undefined];
          return key in c.labels && (value === undefined || c.labels[key] === value);
        }),
      )
      .map((c) => ({
        Id: c.id,
        Names: [`/${c.name}`],
        Image: c.image,
        ImageID: `sha256:${c.id.split("").reverse().join("")}`,
        Command: "/docker-entrypoint.sh",
        Created: c.created,
        Ports: [],
        Labels: c.labels,
        State: c.running ? "running" : "exited",
        Status: c.running ? "Up 2 hours" : "Exited (0) 5 minutes ago",
        HostConfig: { NetworkMode: "bridge" },
        NetworkSettings: { Networks: {} },
        Mounts: [],
      }));
  };

  const inspect = (c: SimContainer) => ({
    Id: c.id,
    Name: `/${c.name}`,
    Created: new Date(c.created * 1000).toISOString(),
    State: { Status: c.running ? "running" : "exited", Running: c.running },
    Config: { Tty: c.tty, Image: c.image, Labels: c.labels },
  });

  const stats = (c: SimContainer, oneShot: boolean) => {
    // One simulated second between the two samples: every CPU contributes 1e9 ns of system time.
    const systemDelta = 1e9 * c.onlineCpus;
    const cpuDelta = (c.cpuPercent / 100) * 1e9;
    const pre = { total: c.cpuTotal, system: c.systemTotal };
    c.cpuTotal += cpuDelta;
    c.systemTotal += systemDelta;
    const cpuStats = (total: number, system: number) => {
      const perCpu = Array.from({ length: c.onlineCpus }, () => Math.round(total / c.onlineCpus));
      return c.cgroup === 1
        ? {
            cpu_usage: { total_usage: total, percpu_usage: perCpu, usage_in_kernelmode: 0, usage_in_usermode: total },
            system_cpu_usage: system,
            throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
          }
        : {
            cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: total },
            system_cpu_usage: system,
            online_cpus: c.onlineCpus,
            throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
          };
    };
    const now = new Date();
    const memoryDetail =
      c.cgroup === 1
        ? {
            cache: c.memoryInactiveFileBytes * 2,
            total_inactive_file: c.memoryInactiveFileBytes,
            inactive_file: c.memoryInactiveFileBytes,
            rss: c.memoryUsageBytes - c.memoryInactiveFileBytes,
          }
        : {
            anon: c.memoryUsageBytes - c.memoryInactiveFileBytes,
            file: c.memoryInactiveFileBytes * 2,
            inactive_file: c.memoryInactiveFileBytes,
            active_file: c.memoryInactiveFileBytes,
          };
    return {
      read: now.toISOString(),
      preread: oneShot ? "0001-01-01T00:00:00Z" : new Date(now.getTime() - 1000).toISOString(),
      pids_stats: { current: 4 },
      num_procs: 0,
      storage_stats: {},
      cpu_stats: cpuStats(c.cpuTotal, c.systemTotal),
      // A one-shot answer skips the second sample, so the daemon leaves precpu_stats empty.
      precpu_stats: oneShot
        ? { cpu_usage: { total_usage: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } }
        : cpuStats(pre.total, pre.system),
      memory_stats: { usage: c.memoryUsageBytes, stats: memoryDetail, limit: c.memoryLimitBytes },
      name: `/${c.name}`,
      id: c.id,
    };
  };

  const logs = (res: ServerResponse, c: SimContainer, query: URLSearchParams) => {
    const wanted = (key: string) => ["1", "true"].includes(query.get(key) ?? "");
    const withTimestamps = wanted("timestamps");
    const since = parseSince(query.get("since"));
    const until = parseSince(query.get("until"));
    let lines = c.logs.filter(
      (l) =>
        ((l.stream === "stdout" && wanted("stdout")) || (l.stream === "stderr" && wanted("stderr"))) &&
        (since === undefined || l.at >= since) &&
        (until === undefined || until === 0n || l.at <= until),
    );
    const tail = query.get("tail");
    if (tail && tail !== "all" && /^\d+$/.test(tail)) lines = lines.slice(Math.max(0, lines.length - Number(tail)));
    const text = (l: LogLine) => `${withTimestamps ? `${rfc3339NanoFixed(l.at)} ` : ""}${l.text}`;
    if (c.tty) {
      res.writeHead(200, { "content-type": "application/vnd.docker.raw-stream" });
      res.end(lines.map(text).join(""));
      return;
    }
    res.writeHead(200, { "content-type": "application/vnd.docker.multiplexed-stream" });
    for (const l of lines) {
      const payload = Buffer.from(text(l), "utf8");
      const header = Buffer.alloc(8); // stream type, three zero bytes, big-endian payload length
      header.writeUInt8(l.stream === "stderr" ? 2 : 1, 0);
      header.writeUInt32BE(payload.length, 4);
      res.write(header);
      res.write(payload);
    }
    res.end();
  };

  if (existsSync(options.socketPath)) unlinkSync(options.socketPath);
  const servers: Server[] = [createServer(handler)];
  await listen(servers[0] as Server, options.socketPath);
  let url: string | undefined;
  if (options.port !== undefined) {
    const tcp = createServer(handler);
    await listen(tcp, options.port);
    servers.push(tcp);
    url = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  }

  const must = (ref: string) => {
    const c = find(ref);
    if (!c) throw new Error(`no simulated container ${ref}`);
    return c;
  };

  return {
    socketPath: options.socketPath,
    url,
    requests,
    addContainer(spec) {
      const id = randomBytes(32).toString("hex");
      containers.push({
        id,
        name: spec.name,
        image: spec.image ?? "nginx:1.27",
        labels: spec.labels ?? {},
        running: spec.running ?? true,
        tty: spec.tty ?? false,
        cpuPercent: spec.cpuPercent ?? 0,
        onlineCpus: spec.onlineCpus ?? 4,
        memoryUsageBytes: spec.memoryUsageBytes ?? 64 * 1024 * 1024,
        memoryInactiveFileBytes: spec.memoryInactiveFileBytes ?? 0,
        memoryLimitBytes: spec.memoryLimitBytes ?? 8 * 1024 * 1024 * 1024,
        cgroup: spec.cgroup ?? 2,
        created: Math.floor(Date.now() / 1000) - 7200,
        logs: [],
        cpuTotal: 5e10,
        systemTotal: 9e15,
      });
      return id;
    },
    removeContainer(ref) {
      containers.splice(containers.indexOf(must(ref)), 1);
    },
    setStats(ref, stats) {
      Object.assign(must(ref), Object.fromEntries(Object.entries(stats).filter(([, v]) => v !== undefined)));
    },
    appendLog(ref, stream, text, at = new Date()) {
      const ns = typeof at === "bigint" ? at : BigInt(at.getTime()) * NS_PER_MS;
      must(ref).logs.push({ stream, text: text.endsWith("\n") ? text : `${text}\n`, at: ns });
    },
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
      if (existsSync(options.socketPath)) unlinkSync(options.socketPath);
    },
  };
}

function single<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

/** Docker's `since`/`until`: Unix seconds with an optional fraction of up to nine digits → nanoseconds. */
function parseSince(value: string | null): bigint | undefined {
  if (!value) return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (!m) return undefined;
  return BigInt(m[1] as string) * 1_000_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/** Docker prints log times with a fixed nine-digit fraction (jsonmessage.RFC3339NanoFixed), always in UTC. */
function rfc3339NanoFixed(ns: bigint): string {
  const ms = Number(ns / NS_PER_MS);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0");
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), "application/json");
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { "content-type": type, "api-version": "1.43", "docker-experimental": "false" });
  res.end(body);
}

function listen(server: Server, where: string | number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    if (typeof where === "number") server.listen(where, "127.0.0.1", () => resolve());
    else server.listen(where, () => resolve());
  });
}

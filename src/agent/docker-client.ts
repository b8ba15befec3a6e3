import { request } from "node:http";
import type { DockerStats } from "./parsers/docker-stats.js";
import type { ProbeResult } from "./types.js";

// The agent needs four GET endpoints on a unix socket. dockerode would bring docker-modem, ssh2 (with a WebAssembly
// module instantiated at load), gRPC and protobuf for features the agent never uses; plain node:http keeps the
// long-running process small.

/** The fields of a `GET /containers/json` entry the agent reads. */
export interface ContainerInfo {
  Id: string;
  Names?: string[];
  Labels?: Record<string, string>;
}

/** A non-2xx answer of the daemon, with its status and the daemon's own message. */
export class DockerApiError extends Error {
  override name = "DockerApiError";
  readonly statusCode: number;

  // No parameter property: the sources must also run under Node's type stripping, which does not support them.
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export interface DockerClient {
  ping(): Promise<void>;
  /** Running containers, as `docker ps`. */
  listContainers(): Promise<ContainerInfo[]>;
  /** One stats sample (the daemon reads two, a second apart, for the CPU delta). */
  stats(id: string): Promise<DockerStats>;
  /** stdout and stderr with timestamps since `since` (Unix seconds), at most `tail` lines, not followed. */
  logs(id: string, since: string, tail: number): Promise<Buffer>;
}

/** A Docker Engine API client on a unix socket; each request fails after `timeoutMs` without an answer. */
export function dockerClient(socketPath: string, timeoutMs: number): DockerClient {
  const get = (path: string): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath, path, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(body);
          reject(new DockerApiError(status, `Docker API ${path}: HTTP ${status} ${daemonMessage(body)}`));
        });
      });
      req.on("timeout", () => req.destroy(new Error(`Docker API ${path}: no answer within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
  const json = async <T>(path: string): Promise<T> => JSON.parse((await get(path)).toString("utf8")) as T;
  const container = (id: string) => `/containers/${encodeURIComponent(id)}`;
  return {
    ping: async () => {
      await get("/_ping");
    },
    listContainers: () => json<ContainerInfo[]>("/containers/json"),
    stats: (id) => json<DockerStats>(`${container(id)}/stats?stream=false`),
    logs: (id, since, tail) =>
      get(`${container(id)}/logs?stdout=1&stderr=1&timestamps=1&follow=0&since=${since}&tail=${tail}`),
  };
}

/** The daemon answers errors as `{"message": "..."}`; anything else is shown as text. */
function daemonMessage(body: Buffer): string {
  const text = body.toString("utf8").trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 200);
}

/** One ping of the Docker API: the probe of every Docker-backed exporter and log source. */
export async function probeDocker(docker: DockerClient, socketPath: string): Promise<ProbeResult> {
  try {
    await docker.ping();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: dockerProblem(socketPath, err) };
  }
}

/** Why the Docker API cannot be used, phrased for the one "disabled" log line. */
function dockerProblem(socketPath: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return `no Docker socket at ${socketPath}`;
  if (code === "EACCES") return `permission denied on ${socketPath} (add the agent's user to the docker group)`;
  if (code === "ECONNREFUSED") return `nothing listens on ${socketPath}`;
  return `${socketPath}: ${(err as Error).message}`;
}

export const STACK_LABELS = ["com.docker.compose.project", "com.docker.stack.namespace"];

/** A container's name without Docker's leading slash, and its stack from the compose or swarm label. */
export function containerIdentity(info: ContainerInfo): { container: string; stack?: string } {
  const container = (info.Names?.[0] ?? info.Id.slice(0, 12)).replace(/^\//, "");
  const stack = STACK_LABELS.map((label) => info.Labels?.[label]).find((value) => value);
  return stack ? { container, stack } : { container };
}

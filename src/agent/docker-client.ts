import type Dockerode from "dockerode";

/** dockerode, loaded on first use so hosts without Docker never pay for it. */
export async function dockerClient(socketPath: string, timeoutMs: number): Promise<Dockerode> {
  const { default: Docker } = await import("dockerode");
  return new Docker({ socketPath, timeout: timeoutMs });
}

/** Why the Docker API cannot be used, phrased for the one "disabled" log line. */
export function dockerProblem(socketPath: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return `no Docker socket at ${socketPath}`;
  if (code === "EACCES") return `permission denied on ${socketPath} (add the agent's user to the docker group)`;
  if (code === "ECONNREFUSED") return `nothing listens on ${socketPath}`;
  return `${socketPath}: ${(err as Error).message}`;
}

export const STACK_LABELS = ["com.docker.compose.project", "com.docker.stack.namespace"];

/** A container's name without Docker's leading slash, and its stack from the compose or swarm label. */
export function containerIdentity(info: Dockerode.ContainerInfo): { container: string; stack?: string } {
  const container = (info.Names?.[0] ?? info.Id.slice(0, 12)).replace(/^\//, "");
  const stack = STACK_LABELS.map((label) => info.Labels?.[label]).find((value) => value);
  return stack ? { container, stack } : { container };
}

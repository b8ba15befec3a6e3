import { containerIdentity, DockerApiError, dockerClient, probeDocker } from "../docker-client.js";
import { containerCpuPercent, containerMemoryBytes } from "../parsers/docker-stats.js";
import { type Exporter, type MetricRow, metric, type ProbeResult } from "../types.js";

const MIB = 1024 * 1024;

/** Per-container CPU % and memory through the Docker Engine API on its unix socket. */
export function dockerExporter(socketPath: string, timeoutMs: number): Exporter {
  const docker = dockerClient(socketPath, timeoutMs);
  let probed = false;
  return {
    name: "docker",
    async probe(): Promise<ProbeResult> {
      const result = await probeDocker(docker, socketPath);
      probed = result.ok;
      return result;
    },
    async collect(now: number) {
      if (!probed) throw new Error("docker exporter used before its probe");
      const containers = await docker.listContainers();
      const warnings: string[] = [];
      // The daemon takes two samples a second apart for a non-streamed answer, so containers are asked in parallel.
      const answers = await Promise.all(
        containers.map(async (info) => {
          try {
            return { info, stats: await docker.stats(info.Id) };
          } catch (err) {
            // A container that stopped between the list and the stats call is not an error worth a warning.
            if (!(err instanceof DockerApiError && err.statusCode === 404)) {
              warnings.push(`${containerIdentity(info).container}: ${(err as Error).message}`);
            }
            return undefined;
          }
        }),
      );
      const rows: MetricRow[] = [];
      for (const answer of answers) {
        if (!answer) continue;
        const labels = containerIdentity(answer.info);
        const cpu = containerCpuPercent(answer.stats);
        const memory = containerMemoryBytes(answer.stats);
        const limit = answer.stats.memory_stats?.limit;
        if (cpu !== undefined) rows.push(metric(now, "container_cpu_percent", cpu, { ...labels }));
        if (memory !== undefined) rows.push(metric(now, "container_mem_usage_mb", memory / MIB, { ...labels }));
        if (limit !== undefined) rows.push(metric(now, "container_mem_limit_mb", limit / MIB, { ...labels }));
      }
      return { metrics: rows, warnings };
    },
  };
}

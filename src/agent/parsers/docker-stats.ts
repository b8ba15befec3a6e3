/** The parts of a Docker Engine `/containers/{id}/stats?stream=false` answer the exporter reads. */
export interface DockerStats {
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/**
 * Docker CLI's formula: the container's share of host CPU time between the two samples the daemon takes, times the
 * CPUs online (so one busy core of a 4-CPU host is 100 %, not 25 %). Undefined when there is no previous sample.
 */
export function containerCpuPercent(stats: DockerStats): number | undefined {
  const now = stats.cpu_stats;
  const before = stats.precpu_stats;
  const total = now?.cpu_usage?.total_usage;
  const system = now?.system_cpu_usage;
  const totalBefore = before?.cpu_usage?.total_usage;
  const systemBefore = before?.system_cpu_usage;
  if (total === undefined || system === undefined || totalBefore === undefined || systemBefore === undefined) {
    return undefined;
  }
  const cpuDelta = total - totalBefore;
  const systemDelta = system - systemBefore;
  if (systemDelta <= 0 || cpuDelta < 0) return 0;
  const cpus = now?.online_cpus || now?.cpu_usage?.percpu_usage?.length || 1;
  return (cpuDelta / systemDelta) * cpus * 100;
}

/**
 * Memory in use as `docker stats` shows it: usage minus the page cache the kernel can drop — `total_inactive_file`
 * on cgroup v1, `inactive_file` on v2, `cache` on daemons older than both.
 */
export function containerMemoryBytes(stats: DockerStats): number | undefined {
  const usage = stats.memory_stats?.usage;
  if (usage === undefined) return undefined;
  const detail = stats.memory_stats?.stats ?? {};
  for (const key of ["total_inactive_file", "inactive_file", "cache"]) {
    const cache = detail[key];
    if (cache !== undefined) return cache < usage ? usage - cache : usage;
  }
  return usage;
}

/**
 * The one table of limits the Hosts page colours readings by; docs/dashboard.md lists the same values. A reading at
 * or above `warn` is amber, at or above `crit` red. GPU power has none: it is summed over all of a host's GPUs,
 * whose limits differ by model.
 */
export const HOST_THRESHOLDS = {
  cpu_temp: { warn: 75, crit: 85, unit: "°C" },
  gpu_temp: { warn: 70, crit: 80, unit: "°C" },
  // NVMe drives throttle from about 70 °C (their composite-temperature warning), well below a GPU's limit.
  nvme_temp: { warn: 60, crit: 70, unit: "°C" },
  cpu_percent: { warn: 75, crit: 90, unit: "%" },
  ram_percent: { warn: 75, crit: 90, unit: "%" },
  disk_percent: { warn: 75, crit: 90, unit: "%" },
} as const;

export type ThresholdName = keyof typeof HOST_THRESHOLDS;
export type Level = "ok" | "warn" | "crit";

export function levelOf(name: ThresholdName, value: number): Level {
  const limits = HOST_THRESHOLDS[name];
  if (value >= limits.crit) return "crit";
  if (value >= limits.warn) return "warn";
  return "ok";
}

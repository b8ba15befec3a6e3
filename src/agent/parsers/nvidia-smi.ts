import { type MetricRow, metric } from "../types.js";

/** Field order of the query; `name` comes last so a model name with a comma cannot shift the numeric columns. */
export const NVIDIA_QUERY_FIELDS = [
  "pci.bus_id",
  "temperature.gpu",
  "power.draw",
  "power.limit",
  "utilization.gpu",
  "utilization.memory",
  "fan.speed",
  "clocks.sm",
  "clocks.mem",
  "memory.used",
  "memory.total",
  "name",
] as const;

export function nvidiaSmiArgs(): string[] {
  return [`--query-gpu=${NVIDIA_QUERY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];
}

const DIRECT: [index: number, name: string][] = [
  [1, "gpu_temperature"],
  [2, "gpu_power_draw"],
  [3, "gpu_power_limit"],
  [4, "gpu_utilization_gpu"],
  [5, "gpu_utilization_memory"],
  [6, "gpu_fan_speed"],
  [7, "gpu_clock_sm"],
  [8, "gpu_clock_mem"],
];

/** nvidia-smi writes "[N/A]" or "[Not Supported]" for fields a board lacks (fans on passive cards, power on some). */
function numeric(cell: string | undefined): number | undefined {
  if (cell === undefined || !/^-?\d+(\.\d+)?$/.test(cell)) return undefined;
  return Number(cell);
}

/**
 * Labels keep dcmon's form so existing dashboards match: bus_id shortened to "01:00.0" and the model to its last two
 * words ("NVIDIA GeForce RTX 4090" → "RTX 4090").
 */
export function parseNvidiaSmi(output: string, timestamp: number): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const line of output.split("\n")) {
    if (!line.trim()) continue;
    const cells = line.split(",").map((cell) => cell.trim());
    if (cells.length < NVIDIA_QUERY_FIELDS.length) continue;
    const busId = (cells[0] as string).split(":").slice(-2).join(":");
    const model = cells
      .slice(NVIDIA_QUERY_FIELDS.length - 1)
      .join(",")
      .trim()
      .split(/\s+/)
      .slice(-2)
      .join(" ");
    const labels = { model, bus_id: busId };
    for (const [index, name] of DIRECT) {
      const value = numeric(cells[index]);
      if (value !== undefined) rows.push(metric(timestamp, name, value, labels));
    }
    const used = numeric(cells[9]);
    const total = numeric(cells[10]);
    if (used !== undefined && total !== undefined && total > 0) {
      rows.push(metric(timestamp, "gpu_memory_usage", Math.round((used / total) * 10_000) / 100, { ...labels }));
    }
  }
  return rows;
}

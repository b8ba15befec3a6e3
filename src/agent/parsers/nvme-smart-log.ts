import { type MetricRow, metric } from "../types.js";

// NVMe "data units" are thousands of 512-byte blocks (NVMe base specification, SMART / Health log).
const DATA_UNIT_BYTES = 512_000;

// nvme-cli renamed fields between releases; the first key present wins.
const FIELDS: [names: string[], metric: string, scale: number][] = [
  [["percent_used", "percentage_used"], "nvme_percentage_used", 1],
  [["avail_spare", "available_spare"], "nvme_available_spare_percent", 1],
  [["critical_warning"], "nvme_critical_warning", 1],
  [["media_errors"], "nvme_media_errors_total", 1],
  [["num_err_log_entries"], "nvme_error_log_entries_total", 1],
  [["power_on_hours"], "nvme_power_on_hours_total", 1],
  [["power_cycles"], "nvme_power_cycles_total", 1],
  [["unsafe_shutdowns"], "nvme_unsafe_shutdowns_total", 1],
  [["data_units_read"], "nvme_data_units_read_bytes_total", DATA_UNIT_BYTES],
  [["data_units_written"], "nvme_data_units_written_bytes_total", DATA_UNIT_BYTES],
];

/** Numbers, numeric strings ("1,234" in some builds) and nvme-cli ≥ 2.9's `{"value": n}` objects. */
function numberOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const n = Number(value.replaceAll(",", ""));
    return value.trim() !== "" && Number.isFinite(n) ? n : undefined;
  }
  if (typeof value === "object" && value !== null && "value" in value) return numberOf(value.value);
  return undefined;
}

/** The composite temperature is reported in Kelvin; some builds print a string such as "37 °C (310 K)". */
function celsius(value: unknown): number | undefined {
  if (typeof value === "string") {
    const kelvin = /(\d+(?:\.\d+)?)\s*K\b/.exec(value);
    if (kelvin) return Number(kelvin[1]) - 273;
  }
  const n = numberOf(value);
  return n === undefined ? undefined : n - 273;
}

/** Parses `nvme smart-log <dev> -o json`; throws when the output is not a JSON object. */
export function parseNvmeSmartLog(
  output: string,
  timestamp: number,
  labels: { device: string; model: string },
): MetricRow[] {
  const log: unknown = JSON.parse(output);
  if (typeof log !== "object" || log === null || Array.isArray(log)) throw new Error("smart-log is not a JSON object");
  const fields = log as Record<string, unknown>;
  const rows: MetricRow[] = [];
  const temperature = celsius(fields.temperature);
  if (temperature !== undefined) rows.push(metric(timestamp, "nvme_temperature_celsius", temperature, { ...labels }));
  for (const [names, name, scale] of FIELDS) {
    const key = names.find((n) => n in fields);
    const value = key === undefined ? undefined : numberOf(fields[key]);
    if (value !== undefined) rows.push(metric(timestamp, name, value * scale, { ...labels }));
  }
  return rows;
}

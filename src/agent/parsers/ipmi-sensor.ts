import { type MetricRow, metric } from "../types.js";

// `ipmitool sensor` prints one row per sensor: name | reading | unit | status | thresholds…; discrete sensors carry
// a hex bit field with unit "discrete" and absent analog sensors read "na".
const UNIT_METRICS: Record<string, string> = {
  "degrees c": "ipmi_temp_celsius",
  rpm: "ipmi_fan_rpm",
  watts: "ipmi_power_watts",
  volts: "ipmi_voltage_volts",
};

const NUMBER = /^-?\d+(\.\d+)?$/;

export function parseIpmiSensor(output: string, timestamp: number): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const line of output.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells.length < 4) continue;
    const [sensor, reading, unit] = cells as [string, string, string];
    const name = UNIT_METRICS[unit.toLowerCase()];
    if (!sensor || !name || !NUMBER.test(reading)) continue;
    rows.push(metric(timestamp, name, Number(reading), { sensor }));
  }
  return rows;
}

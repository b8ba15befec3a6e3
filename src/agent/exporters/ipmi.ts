import { parseIpmiSensor } from "../parsers/ipmi-sensor.js";
import type { Exporter } from "../types.js";
import { commandExporter } from "./command-exporter.js";

export function ipmiExporter(command: string, timeoutMs: number): Exporter {
  return commandExporter({ name: "ipmi", command, args: ["sensor"], timeoutMs, parse: parseIpmiSensor });
}

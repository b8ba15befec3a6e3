import { nvidiaSmiArgs, parseNvidiaSmi } from "../parsers/nvidia-smi.js";
import type { Exporter } from "../types.js";
import { commandExporter } from "./command-exporter.js";

export function nvidiaExporter(command: string, timeoutMs: number): Exporter {
  return commandExporter({ name: "nvidia", command, args: nvidiaSmiArgs(), timeoutMs, parse: parseNvidiaSmi });
}

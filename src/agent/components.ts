import type { AgentConfig } from "./config.js";
import { dockerExporter } from "./exporters/docker.js";
import { ipmiExporter } from "./exporters/ipmi.js";
import { nvidiaExporter } from "./exporters/nvidia.js";
import { nvmeExporter } from "./exporters/nvme.js";
import { osExporter } from "./exporters/os.js";
import { dmesgSource } from "./logs/dmesg.js";
import { dockerLogSource } from "./logs/docker.js";
import { fileSource } from "./logs/file.js";
import { journalSource } from "./logs/journal.js";
import type { Exporter, LogSource } from "./types.js";

/** The exporters and log sources agent.yml enables, in a fixed order. */
export function componentsOf(config: AgentConfig): { exporters: Exporter[]; logSources: LogSource[] } {
  const e = config.exporters;
  const timeout = config.command_timeout_ms;
  const exporters: Exporter[] = [];
  if (e.os.enabled) exporters.push(osExporter());
  if (e.docker.enabled) exporters.push(dockerExporter(e.docker.socket, timeout));
  if (e.nvidia.enabled) exporters.push(nvidiaExporter(e.nvidia.command, timeout));
  if (e.ipmi.enabled) exporters.push(ipmiExporter(e.ipmi.command, timeout));
  if (e.nvme.enabled)
    exporters.push(nvmeExporter({ command: e.nvme.command, devices: e.nvme.devices, timeoutMs: timeout }));
  const l = config.logs;
  const logSources: LogSource[] = [];
  if (l.journal.enabled) logSources.push(journalSource(l.journal.command, timeout));
  if (l.syslog.enabled) logSources.push(fileSource("syslog", l.syslog.path));
  if (l.dmesg.enabled) logSources.push(dmesgSource(l.dmesg.command, timeout));
  if (l.docker.enabled) logSources.push(dockerLogSource(e.docker.socket, timeout));
  for (const file of l.files) logSources.push(fileSource(`file:${file.name}`, file.path));
  return { exporters, logSources };
}

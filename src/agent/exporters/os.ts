import { readFile, statfs } from "node:fs/promises";
import { loadavg } from "node:os";
import {
  cpuUsagePercent,
  parseDiskstats,
  parseMeminfo,
  parseMounts,
  parseNetDev,
  parseProcStat,
} from "../parsers/procfs.js";
import { type Exporter, type MetricRow, metric, type ProbeResult } from "../types.js";

export interface OsExporterOptions {
  /** Root of the proc filesystem; tests point it at a folder of captured files. */
  proc?: string;
}

/** Host CPU, memory, disk, network and filesystem metrics from Linux /proc and statfs(2). */
export function osExporter(options: OsExporterOptions = {}): Exporter {
  const proc = options.proc ?? "/proc";
  const read = (file: string) => readFile(`${proc}/${file}`, "utf8");
  let previousCpu: { idle: number; total: number } | undefined;

  return {
    name: "os",
    async probe(): Promise<ProbeResult> {
      try {
        previousCpu = parseProcStat(await read("stat"));
      } catch (err) {
        return { ok: false, reason: `cannot read ${proc}/stat (${(err as NodeJS.ErrnoException).code ?? err})` };
      }
      return previousCpu ? { ok: true } : { ok: false, reason: `${proc}/stat has no cpu line` };
    },
    async collect(now: number) {
      const [stat, meminfo, diskstats, netdev, mounts] = await Promise.all([
        read("stat"),
        read("meminfo"),
        read("diskstats").catch(() => ""),
        read("net/dev").catch(() => ""),
        read("self/mounts").catch(() => ""),
      ]);
      const rows: MetricRow[] = [];
      const [one, five, fifteen] = loadavg();
      rows.push(
        metric(now, "cpu_load_1m", one ?? 0),
        metric(now, "cpu_load_5m", five ?? 0),
        metric(now, "cpu_load_15m", fifteen ?? 0),
      );
      const cpu = parseProcStat(stat);
      if (cpu && previousCpu) {
        const usage = cpuUsagePercent(previousCpu, cpu);
        if (usage !== undefined) rows.push(metric(now, "cpu_usage_percent", usage));
      }
      previousCpu = cpu ?? previousCpu;
      const memory = parseMeminfo(meminfo);
      if (memory) {
        const used = memory.total - memory.available;
        rows.push(
          metric(now, "memory_total_bytes", memory.total),
          metric(now, "memory_available_bytes", memory.available),
          metric(now, "memory_used_bytes", used),
          metric(now, "memory_usage_percent", memory.total > 0 ? (used / memory.total) * 100 : 0),
        );
      }
      for (const disk of parseDiskstats(diskstats)) {
        rows.push(
          metric(now, "disk_read_bytes_total", disk.read, { device: disk.device }),
          metric(now, "disk_write_bytes_total", disk.written, { device: disk.device }),
        );
      }
      for (const net of parseNetDev(netdev)) {
        rows.push(
          metric(now, "network_receive_bytes_total", net.rx, { interface: net.iface }),
          metric(now, "network_transmit_bytes_total", net.tx, { interface: net.iface }),
        );
      }
      const filesystems = await Promise.all(
        parseMounts(mounts).map(async (mountpoint) => {
          try {
            return { mountpoint, fs: await statfs(mountpoint) };
          } catch {
            return undefined; // unmounted between reading the table and statfs, or not ours to read
          }
        }),
      );
      for (const entry of filesystems) {
        if (!entry) continue;
        const { bsize, blocks, bfree, bavail } = entry.fs;
        const labels = { mountpoint: entry.mountpoint };
        rows.push(
          metric(now, "fs_total_bytes", blocks * bsize, labels),
          // free as `df` reports it: what an unprivileged user can still write (excludes root-reserved blocks)
          metric(now, "fs_free_bytes", bavail * bsize, { ...labels }),
          metric(now, "fs_used_bytes", (blocks - bfree) * bsize, { ...labels }),
        );
      }
      return { metrics: rows };
    },
  };
}

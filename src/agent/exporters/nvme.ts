import { readdir, readFile } from "node:fs/promises";
import { basename } from "node:path";
import { CommandError, run } from "../exec.js";
import { parseNvmeSmartLog } from "../parsers/nvme-smart-log.js";
import type { Exporter, MetricRow, ProbeResult } from "../types.js";

export interface NvmeOptions {
  command: string;
  /** Controllers such as /dev/nvme0; empty: every controller the kernel lists under `sysClass`. */
  devices: string[];
  timeoutMs: number;
  sysClass?: string;
}

/** SMART health of NVMe controllers via `nvme smart-log <dev> -o json`; the model comes from sysfs. */
export function nvmeExporter(options: NvmeOptions): Exporter {
  const sysClass = options.sysClass ?? "/sys/class/nvme";
  let controllers: { device: string; model: string }[] = [];

  const model = async (device: string) => {
    try {
      return (await readFile(`${sysClass}/${basename(device)}/model`, "utf8")).trim() || "unknown";
    } catch {
      return "unknown";
    }
  };
  const smartLog = async (device: string, labels: { device: string; model: string }, now: number) => {
    const { stdout } = await run(options.command, ["smart-log", device, "-o", "json"], options.timeoutMs);
    return parseNvmeSmartLog(stdout, now, labels);
  };

  return {
    name: "nvme",
    async probe(): Promise<ProbeResult> {
      let devices = options.devices;
      if (devices.length === 0) {
        const names = await readdir(sysClass).catch(() => [] as string[]);
        devices = names.filter((n) => /^nvme\d+$/.test(n)).map((n) => `/dev/${n}`);
      }
      if (devices.length === 0) return { ok: false, reason: `no NVMe controllers under ${sysClass}` };
      controllers = await Promise.all(devices.map(async (device) => ({ device, model: await model(device) })));
      try {
        const first = controllers[0] as { device: string; model: string };
        await smartLog(first.device, first, Date.now() / 1000);
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: err instanceof CommandError ? err.message : String(err) };
      }
    },
    async collect(now: number) {
      const rows: MetricRow[] = [];
      const failures: string[] = [];
      for (const controller of controllers) {
        try {
          rows.push(...(await smartLog(controller.device, controller, now)));
        } catch (err) {
          failures.push(`${controller.device}: ${(err as Error).message}`);
        }
      }
      // One broken controller must not hide the healthy ones' rows; all failing is the exporter failing.
      if (rows.length === 0 && failures.length > 0) throw new Error(failures.join("; "));
      return { metrics: rows, warnings: failures };
    },
  };
}

import { CommandError, run } from "../exec.js";
import type { Exporter, MetricRow, ProbeResult } from "../types.js";

/**
 * An exporter that runs one program per cycle and parses its output. The probe runs the same command once: a
 * missing program, or one that fails (no GPU, no BMC, no permission), disables the exporter with its reason.
 */
export function commandExporter(options: {
  name: string;
  command: string;
  args: string[];
  timeoutMs: number;
  parse: (stdout: string, now: number) => MetricRow[];
}): Exporter {
  const once = async (now: number) => {
    const { stdout } = await run(options.command, options.args, options.timeoutMs);
    return options.parse(stdout, now);
  };
  return {
    name: options.name,
    async probe(): Promise<ProbeResult> {
      try {
        await once(Date.now() / 1000);
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: err instanceof CommandError ? err.message : String(err) };
      }
    },
    async collect(now: number) {
      return { metrics: await once(now) };
    },
  };
}

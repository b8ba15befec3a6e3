import { CommandError, run } from "../exec.js";
import { parseDmesg } from "../parsers/dmesg.js";
import type { LogSource, ProbeResult } from "../types.js";

const ARGS = ["-x", "--time-format", "iso"];

/** The kernel ring buffer; the cursor is the time of the last record sent, the buffer itself is bounded. */
export function dmesgSource(command: string, timeoutMs: number): LogSource {
  return {
    name: "dmesg",
    async probe(): Promise<ProbeResult> {
      try {
        await run(command, ARGS, timeoutMs);
        return { ok: true };
      } catch (err) {
        // With kernel.dmesg_restrict=1 only root (CAP_SYSLOG) may read the buffer.
        return { ok: false, reason: err instanceof CommandError ? err.message : String(err) };
      }
    },
    async read(cursor, limit) {
      const { stdout } = await run(command, ARGS, timeoutMs);
      return parseDmesg(stdout, cursor, limit);
    },
  };
}

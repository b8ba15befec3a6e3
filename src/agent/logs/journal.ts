import { CommandError, runFirstLines } from "../exec.js";
import { parseJournal } from "../parsers/journal.js";
import type { LogSource, ProbeResult } from "../types.js";

/**
 * The systemd journal through `journalctl --output=json`, resumed with `--after-cursor`. Without a cursor (first
 * start) it begins with the newest `limit` entries rather than the whole journal.
 */
export function journalSource(command: string, timeoutMs: number): LogSource {
  return {
    name: "journal",
    async probe(): Promise<ProbeResult> {
      try {
        await runFirstLines(command, ["--output=json", "--no-pager", "--quiet", "-n", "1"], 1, timeoutMs);
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: err instanceof CommandError ? err.message : String(err) };
      }
    },
    async read(cursor, limit) {
      const args = ["--output=json", "--no-pager", "--quiet"];
      args.push(...(cursor === undefined ? ["-n", String(limit)] : [`--after-cursor=${cursor}`]));
      const lines = await runFirstLines(command, args, limit, timeoutMs);
      const parsed = parseJournal(lines.join("\n"), limit);
      return { logs: parsed.logs, cursor: parsed.cursor ?? cursor };
    },
  };
}

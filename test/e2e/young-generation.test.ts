import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, freePort, startServe } from "../helpers/cli.js";

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");

describe.runIf(process.platform === "linux")("the young generation of long-running commands", () => {
  it("serve restarts itself in place with a bounded semi-space; a limit in NODE_OPTIONS is kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-young-"));
    try {
      for (const [nodeOptions, expected] of [
        ["", "--max-semi-space-size=8"],
        ["--max-semi-space-size=4", undefined],
      ] as const) {
        const server = await startServe(["--data-dir", dir], await freePort(), { NODE_OPTIONS: nodeOptions });
        try {
          const args = cmdline(server.pid as number);
          if (expected) expect(args).toContain(expected);
          else expect(args.some((a) => a.startsWith("--max-semi-space-size"))).toBe(false);
        } finally {
          const exited = new Promise((r) => server.once("exit", r));
          server.kill("SIGTERM");
          await exited;
        }
      }
      // One-shot commands are not restarted: they print and exit as before.
      expect(cli(["--data-dir", dir, "org", "create", "serve", "--json"]).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

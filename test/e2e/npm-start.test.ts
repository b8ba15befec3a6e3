import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/cli.js";

describe("npm start (the README's first command)", () => {
  it("serves the dashboard and the API with SQLite and nothing else", async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), "fl-start-"));
    const child = spawn("npm", ["start"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: {
        ...process.env,
        FLEETLEDGER_SERVER__PORT: String(port),
        FLEETLEDGER_DATA_DIR: dataDir,
        FLEETLEDGER_LOG__LEVEL: "warn",
      },
      detached: true,
      stdio: "ignore",
    });
    try {
      let ready = false;
      for (let i = 0; i < 100 && !ready; i++) {
        await new Promise((r) => setTimeout(r, 200));
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      }
      expect(ready).toBe(true);
      const home = await fetch(`http://127.0.0.1:${port}/`, { redirect: "manual" });
      expect(home.headers.get("location")).toMatch(/\/login/);
      expect((await fetch(`http://127.0.0.1:${port}/login`)).status).toBe(200);
    } finally {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
    }
  }, 60_000);
});

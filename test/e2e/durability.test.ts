import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliJson, freePort, startServe } from "../helpers/cli.js";

const auth = (key: string, secret: string) => `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`;

describe("durability", () => {
  it("keeps every acknowledged document across kill -9 and diffs them after restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-kill-"));
    const d = ["--data-dir", dir];
    cliJson(["org", "create", "acme", ...d]);
    const systems = [0, 1, 2].map((i) =>
      cliJson<{ id: string; system_key: string; system_secret: string }>([
        "system",
        "create",
        "--org",
        "acme",
        "--name",
        `s${i}`,
        ...d,
      ]),
    );
    const { token } = cliJson<{ token: string }>(["token", "create", "--name", "t", "--role", "viewer", ...d]);
    // A short lease brings back the jobs the killed worker had claimed but not finished.
    const env = { FLEETLEDGER_INVENTORY__RATE_LIMIT_PER_MINUTE: "0", FLEETLEDGER_QUEUE__LEASE_SECONDS: "2" };
    const port = await freePort();
    let server = await startServe(d, port, env);
    const base = `http://127.0.0.1:${port}`;

    const acked = new Map<number, { system: string; counter: number }>();
    let stop = false;
    const pusher = async (s: (typeof systems)[number]) => {
      for (let counter = 0; !stop && counter < 5000; counter++) {
        try {
          const res = await fetch(`${base}/api/systems/inventory`, {
            method: "POST",
            headers: { authorization: auth(s.system_key, s.system_secret), "content-type": "application/json" },
            body: JSON.stringify({ system_id: s.id, data: { facts: { counter, pad: "x".repeat(2000) } } }),
          });
          if (res.status === 202) acked.set(((await res.json()) as { id: number }).id, { system: s.id, counter });
        } catch {
          return; // the server died mid-request: that document was never acknowledged
        }
      }
    };
    const running = systems.map(pusher);
    const waitUntil = Date.now() + 30_000;
    while (acked.size < 300 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 10));
    expect(acked.size, "documents acknowledged before the kill").toBeGreaterThanOrEqual(300);
    // Listen before killing: the exit can land while the pushers are still unwinding.
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGKILL");
    stop = true;
    await Promise.all(running);
    await exited;

    server = await startServe(d, port, env);
    try {
      const get = async (path: string) =>
        (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<unknown>;
      const stored = new Map<number, string>();
      for (const s of systems) {
        const records = (await get(`/api/systems/${s.id}/inventory/records?limit=1000`)) as { id: number }[];
        for (const r of records) stored.set(r.id, s.id);
      }
      for (const [id, info] of acked) expect(stored.get(id), `acknowledged record ${id}`).toBe(info.system);

      // Every record but each system's first yields exactly one diff once the restarted worker catches up.
      const expectedDiffs = stored.size - systems.length;
      let diffs = 0;
      for (let i = 0; i < 100; i++) {
        diffs = 0;
        for (const s of systems) {
          diffs += ((await get(`/api/systems/${s.id}/inventory/diffs?limit=1000`)) as unknown[]).length;
        }
        if (diffs === expectedDiffs) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(diffs).toBe(expectedDiffs);
    } finally {
      server.kill("SIGTERM");
    }
  }, 90_000);
});

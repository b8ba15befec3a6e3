import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, cliJson } from "../helpers/cli.js";

describe("fleetledger CLI", () => {
  it("creates orgs, systems and tokens, imports history and prunes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-cli-"));
    const d = ["--data-dir", dir];
    const org = cliJson<{ id: string; name: string }>(["org", "create", "acme", ...d]);
    expect(org).toEqual({ id: expect.any(String), name: "acme" });
    const byName = cliJson<{ id: string; system_key: string; system_secret: string }>([
      "system",
      "create",
      "--org",
      "acme",
      "--name",
      "fw-1",
      ...d,
    ]);
    expect(Object.keys(byName).sort()).toEqual(["id", "system_key", "system_secret"]);
    const byId = cliJson<{ system_key: string }>(["system", "create", "--org", org.id, "--name", "fw-2", ...d]);
    expect(byId.system_key).not.toBe(byName.system_key);
    expect(cliJson<{ token: string }>(["token", "create", "--name", "me", "--role", "admin", ...d]).token).toMatch(
      /^flt_/,
    );

    const duplicateOrg = cli(["org", "create", "acme", ...d]);
    expect(duplicateOrg.status).toBe(2);
    expect(duplicateOrg.stderr).toContain('organization "acme" already exists');
    expect(cli(["system", "create", "--org", "nope", "--name", "x", ...d]).stderr).toContain(
      'no organization with id or name "nope"',
    );
    expect(cli(["token", "create", "--name", "x", "--role", "root", ...d]).status).not.toBe(0);

    const file = join(dir, "history.jsonl");
    const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString();
    const lines = [0, 1, 2, 3, 40, 41].map((n) =>
      JSON.stringify({ system_key: byName.system_key, received_at: day(n), data: { facts: { n } } }),
    );
    writeFileSync(file, `${lines.join("\n")}\n`);
    const imported = cliJson(["inventory", "import", "--file", file, ...d]);
    expect(imported).toEqual({ records: 6, duplicates: 0, processed: 6 });

    const dry = cliJson<{ kept: number[]; deleted: number[] }>([
      "inventory",
      "prune",
      "--now",
      day(50),
      "--dry-run",
      ...d,
    ]);
    // Days 0–3 are 47–50 days old: one per ISO week survives, plus the first record; 40 and 41 are within 10 days.
    expect(dry.kept.length + dry.deleted.length).toBe(6);
    expect(dry.deleted.length).toBeGreaterThan(0);
    expect(dry.kept).toContain(1);
    expect(dry.kept).toContain(6);
    const real = cliJson(["inventory", "prune", "--now", day(50), ...d]);
    expect(real).toEqual(dry);
    expect(cliJson(["inventory", "prune", "--now", day(50), ...d])).toEqual({ kept: dry.kept, deleted: [] });

    const badLine = join(dir, "bad.jsonl");
    writeFileSync(badLine, '{"system_key":"x","received_at":"2026-01-01T00:00:00Z","data":{}}\nnot json\n');
    const bad = cli(["inventory", "import", "--file", badLine, ...d]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("line 2: not JSON");
    expect(cli(["inventory", "prune", "--now", "tomorrow", ...d]).stderr).toContain("--now must be an ISO-8601 time");
  }, 120_000);

  it("explains bad settings and prints help", () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-cli-"));
    const config = join(dir, "bad.yml");
    writeFileSync(config, "server:\n  prot: 1\n");
    const r = cli(["org", "list", "--config", config, "--data-dir", dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown setting "server.prot"');
    const env = cli(["org", "list", "--data-dir", dir], { FLEETLEDGER_INVENTORY__HEARTBEAT_TIMEOUT_MINUTES: "soon" });
    expect(env.stderr).toContain("inventory.heartbeat_timeout_minutes");
    const help = cli(["--help"]);
    expect(help.status).toBe(0);
    for (const command of ["serve", "org", "system", "token", "inventory", "config"])
      expect(help.stdout).toContain(command);
    expect(cli(["inventory", "prune", "--help"]).stdout).toContain("--dry-run");
  }, 60_000);
});

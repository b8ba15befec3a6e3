import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAgentBundle } from "../../src/agent/build.js";
import { tempDir } from "./helpers.js";

const exec = promisify(execFile);

// The bundle is what the systemd unit runs; these run it as a file of its own, outside the sources' module graph.
// A real cycle against the Docker simulator and a server is run by test/bench/agent-bench.test.ts.
describe("agent bundle", () => {
  const dir = tempDir("fleetledger-agent-bundle-");
  const bundle = join(dir.dir, "fleetledger-agent.mjs");
  const run = (...args: string[]) => exec(process.execPath, [bundle, ...args]);
  const failure = (...args: string[]) =>
    run(...args).then(
      () => {
        throw new Error("expected the bundle to fail");
      },
      (err: { code: number; stderr: string }) => err,
    );

  beforeAll(async () => {
    const { path, bytes } = await buildAgentBundle(bundle);
    expect(path).toBe(bundle);
    expect(bytes).toBeGreaterThan(100_000);
  });
  afterAll(() => dir.remove());

  it("runs on its own and offers the agent's commands, not `build`", async () => {
    const { stdout } = await run("--help");
    for (const command of ["run [options]", "enroll [options]", "install-service [options]"]) {
      expect(stdout).toContain(command);
    }
    expect(stdout).not.toMatch(/^\s+build\b/m);
  });

  it("reads the host facts in its `facts` command", async () => {
    const facts = JSON.parse((await run("facts")).stdout) as { os: { hostname: string }; interfaces: unknown[] };
    expect(facts.os.hostname).toBe(hostname());
    expect(Array.isArray(facts.interfaces)).toBe(true);
  });

  it("reports operator errors in one line with exit code 2", async () => {
    const file = join(dir.dir, "agent.yml");
    writeFileSync(file, "interval: soon\nexporters: { dockr: {} }\n");
    const invalid = await failure("run", "--config", file);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toBe(
      `fleetledger agent: invalid agent config (${file}):\n  - "interval" must be a duration such as 500ms, 30s, 5m or 1h30m\n  - unknown key "exporters.dockr"\n`,
    );
    const unenrolled = await failure("run", "--state-dir", join(dir.dir, "empty"));
    expect(unenrolled.code).toBe(2);
    expect(unenrolled.stderr).toContain("credentials.json does not exist: run `fleetledger agent enroll` first");
  });

  it("install-service from the bundle points the unit at the bundle itself", async () => {
    const unitPath = join(dir.dir, "fleetledger-agent.service");
    await run("install-service", "--unit-path", unitPath, "--config", "/etc/fleetledger/agent.yml");
    expect(readFileSync(unitPath, "utf8")).toContain(` ${bundle} run --config /etc/fleetledger/agent.yml\n`);
    const missing = await failure("install-service", "--unit-path", unitPath, "--bundle", join(dir.dir, "none.mjs"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`fleetledger agent: agent bundle ${join(dir.dir, "none.mjs")} does not exist\n`);
  });
});

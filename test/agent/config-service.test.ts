import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../src/agent/config.js";
import { unitFile } from "../../src/agent/service.js";
import { tempDir } from "./helpers.js";

const exec = promisify(execFile);
const MAIN = new URL("../../src/agent/main.ts", import.meta.url).pathname;
const HOOK = new URL("../../src/agent/ts-resolve.ts", import.meta.url).pathname;
const agentCli = (...args: string[]) =>
  exec(process.execPath, ["--disable-warning=ExperimentalWarning", "--import", HOOK, MAIN, ...args]);

describe("agent.yml", () => {
  const dir = tempDir("fleetledger-agent-config-");
  afterAll(() => dir.remove());

  it("fills defaults and converts durations", () => {
    const config = loadAgentConfig(undefined, { state_dir: dir.dir });
    expect(config).toMatchObject({
      state_dir: dir.dir,
      interval_ms: 30_000,
      heartbeat_interval_ms: 60_000,
      inventory_interval_ms: 900_000,
      spool: { max_bytes: 52_428_800 },
      exporters: { docker: { enabled: true, socket: "/var/run/docker.sock" }, nvme: { devices: [] } },
      logs: { syslog: { path: "/var/log/syslog" }, docker: { enabled: false } },
      commands: { enabled: false, allow_fan_control: false, allow_ipmi_raw: false },
    });
  });

  it("stops on unknown keys, naming each, and on bad values", () => {
    const file = join(dir.dir, "agent.yml");
    writeFileSync(
      file,
      "interval: 10s\nexporters:\n  docker:\n    sock: /run/docker.sock\nspool:\n  max_bytes: 10\nlabel: {}\n",
    );
    expect(() => loadAgentConfig(file)).toThrow(
      `invalid agent config (${file}):\n  - unknown key "label"\n  - unknown key "exporters.docker.sock"\n  - "spool.max_bytes" must be >= 1024`,
    );
    writeFileSync(file, "server: ftp://x\n");
    expect(() => loadAgentConfig(file)).toThrow('"server" must be an http:// or https:// URL');
    writeFileSync(file, "- a\n");
    expect(() => loadAgentConfig(file)).toThrow("must hold a mapping at its top level");
    expect(() => loadAgentConfig(join(dir.dir, "none.yml"))).toThrow("does not exist");
  });

  it("lets --server and --state-dir override the file", () => {
    const file = join(dir.dir, "override.yml");
    writeFileSync(file, "server: http://a.example\nstate_dir: /nope\ninterval: 5s\n");
    const config = loadAgentConfig(file, { server: "https://b.example", state_dir: dir.dir });
    expect([config.server, config.state_dir, config.interval_ms]).toEqual(["https://b.example", dir.dir, 5000]);
  });
});

describe("systemd unit", () => {
  const dir = tempDir("fleetledger-agent-unit-");
  afterAll(() => dir.remove());

  it("install-service writes the unit and prints the systemctl commands", async () => {
    const unitPath = join(dir.dir, "fleetledger-agent.service");
    const { stdout } = await agentCli(
      "install-service",
      "--unit-path",
      unitPath,
      "--config",
      "/etc/fleetledger/agent.yml",
      "--user",
      "fleetledger",
    );
    expect(stdout).toBe(
      `wrote ${unitPath}\nenable and start it with:\n  systemctl daemon-reload\n  systemctl enable --now fleetledger-agent.service\n  journalctl -u fleetledger-agent.service -f\n`,
    );
    const unit = readFileSync(unitPath, "utf8");
    expect(unit).toBe(
      unitFile({
        configPath: "/etc/fleetledger/agent.yml",
        stateDir: "/var/lib/fleetledger-agent",
        user: "fleetledger",
      }),
    );
    expect(unit).toContain("Restart=always\n");
    expect(unit).toContain("User=fleetledger\nSupplementaryGroups=systemd-journal adm docker\n");
    expect(unit).toContain(`--import ${HOOK} ${MAIN} run --config /etc/fleetledger/agent.yml\n`);
    expect(unit).toContain("ProtectSystem=strict\n");
    expect(unit).toContain("StateDirectory=fleetledger-agent\n");
    // Exporters read /dev/ipmi0, /dev/nvme*, /dev/nvidia*: the unit must not hide devices.
    expect(unit).not.toContain("PrivateDevices");
  });

  it("run without enrolment says what to do and exits 2", async () => {
    const error = await agentCli("run", "--state-dir", join(dir.dir, "empty")).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain(
      "credentials.json does not exist: run `fleetledger agent enroll` first",
    );
  });

  it("shows help for each command", async () => {
    const { stdout } = await agentCli("enroll", "--help");
    expect(stdout).toContain("--token <token>");
    expect(stdout).toContain("--org <org>");
  });
});

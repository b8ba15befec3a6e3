import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { loadAgentConfig } from "../../src/agent/config.js";
import { AGENT_NODE_FLAGS, unitFile } from "../../src/agent/service.js";
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
    // Every kind of field, wrong: each problem is listed with its dotted key, in the order of the file's sections.
    writeFileSync(
      file,
      [
        "interval: 10",
        "heartbeat_interval: 5 minutes",
        "log_level: loud",
        'labels: { "9x": a, ok: 1, rack: r1 }',
        "exporters: { os: true, nvme: { devices: [/dev/nvme0, 3] } }",
        "logs:",
        '  journal: { command: "" }',
        '  files: [{ path: /x }, { name: "a b", path: "", extra: 1 }]',
        'commands: { enabled: "yes" }',
        "spool: { max_bytes: 2048.5 }",
        "",
      ].join("\n"),
    );
    expect(() => loadAgentConfig(file)).toThrow(
      [
        `invalid agent config (${file}):`,
        '"interval" must be a duration such as 500ms, 30s, 5m or 1h30m',
        '"heartbeat_interval" must be a duration such as 500ms, 30s, 5m or 1h30m',
        '"log_level" must be one of fatal, error, warn, info, debug, trace, silent',
        '"labels.9x": a key must be a label name (letters, digits and _, not starting with a digit)',
        '"labels.ok" must be a string',
        '"exporters.os" must be a mapping',
        '"exporters.nvme.devices.1" must be a string',
        '"logs.journal.command" must not be empty',
        '"logs.files.0.name" is required',
        'unknown key "logs.files.1.extra"',
        '"logs.files.1.name" must be letters, digits, _, . or -',
        '"logs.files.1.path" must not be empty',
        '"spool.max_bytes" must be an integer',
        '"commands.enabled" must be true or false',
      ].join("\n  - "),
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

  it("install-service builds the bundle, writes the unit running it and prints the systemctl commands", async () => {
    const unitPath = join(dir.dir, "fleetledger-agent.service");
    const bundle = join(dir.dir, "fleetledger-agent.mjs");
    const { stdout } = await agentCli(
      "install-service",
      "--unit-path",
      unitPath,
      "--config",
      "/etc/fleetledger/agent.yml",
      "--user",
      "fleetledger",
      "--bundle",
      bundle,
    );
    expect(stdout).toBe(
      `built ${bundle}\nwrote ${unitPath}\nenable and start it with:\n  systemctl daemon-reload\n  systemctl enable --now fleetledger-agent.service\n  journalctl -u fleetledger-agent.service -f\n`,
    );
    const unit = readFileSync(unitPath, "utf8");
    expect(unit).toBe(
      unitFile({
        bundle,
        configPath: "/etc/fleetledger/agent.yml",
        stateDir: "/var/lib/fleetledger-agent",
        user: "fleetledger",
      }),
    );
    expect(unit).toContain("Restart=always\n");
    expect(unit).toContain("User=fleetledger\nSupplementaryGroups=systemd-journal adm docker\n");
    // No TypeScript at run time: the unit runs the bundle it just built.
    expect(unit).toContain(
      `ExecStart=${process.execPath} ${AGENT_NODE_FLAGS.join(" ")} ${bundle} run --config /etc/fleetledger/agent.yml\n`,
    );
    expect((await exec(process.execPath, [bundle, "--help"])).stdout).toContain("install-service");
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

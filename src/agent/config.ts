import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import YAML from "yaml";
import { parseDuration } from "../lib/duration.js";
import { flag, integer, list, mapping, oneOf, stringMap, text } from "./config-fields.js";

export class AgentConfigError extends Error {
  override name = "AgentConfigError";
}

const duration = (fallback: string) =>
  text(fallback, { pattern: /^(\d+(\.\d+)?(ms|s|m|h))+$/, hint: "a duration such as 500ms, 30s, 5m or 1h30m" });
/** A program the agent runs, looked up in PATH. */
const program = (fallback: string) => text(fallback, { nonEmpty: true });
const enabled = { enabled: flag(true) };

// docs/agent.md has the reference table of these keys and what each means; keep both in step.
const AGENT_CONFIG = mapping({
  // `--server` wins, then this, then the server saved at enrolment.
  server: text(""),
  state_dir: text("/var/lib/fleetledger-agent"),
  interval: duration("30s"),
  heartbeat_interval: duration("60s"),
  // Host facts are read this often; the inventory is pushed only when it changed.
  inventory_interval: duration("15m"),
  // Longest time an exporter's command (nvidia-smi, ipmitool, …) may run.
  command_timeout: duration("10s"),
  log_level: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
  // Extra labels on every metric (a metric's own label of the same name wins).
  labels: stringMap(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a label name (letters, digits and _, not starting with a digit)"),
  exporters: mapping({
    os: mapping(enabled),
    docker: mapping({ ...enabled, socket: text("/var/run/docker.sock") }),
    nvidia: mapping({ ...enabled, command: program("nvidia-smi") }),
    ipmi: mapping({ ...enabled, command: program("ipmitool") }),
    // Empty `devices`: every controller in /sys/class/nvme.
    nvme: mapping({ ...enabled, command: program("nvme"), devices: list(text("")) }),
  }),
  logs: mapping({
    // Most lines one source contributes to a batch; the rest follow in the next cycles.
    max_lines_per_cycle: integer(1000, 1),
    journal: mapping({ ...enabled, command: program("journalctl") }),
    syslog: mapping({ ...enabled, path: text("/var/log/syslog") }),
    dmesg: mapping({ ...enabled, command: program("dmesg") }),
    // Container stdout/stderr through the Docker API at exporters.docker.socket.
    docker: mapping({ enabled: flag(false) }),
    // Sent as log source `file:<name>`.
    files: list(
      mapping({
        name: text(undefined, { pattern: /^[A-Za-z0-9_.-]+$/, hint: "letters, digits, _, . or -" }),
        path: text(undefined, { nonEmpty: true }),
      }),
    ),
  }),
  // Disk space for batches the server has not acknowledged; the oldest are dropped beyond it.
  spool: mapping({ max_bytes: integer(50 * 1024 * 1024, 1024) }),
  commands: mapping({ enabled: flag(false), allow_fan_control: flag(false), allow_ipmi_raw: flag(false) }),
  tls: mapping({ skip_verify: flag(false), ca_file: text("") }),
});

export type AgentConfigFile = ReturnType<typeof AGENT_CONFIG.read>;

/** The settings with durations in milliseconds. */
export interface AgentConfig extends AgentConfigFile {
  interval_ms: number;
  heartbeat_interval_ms: number;
  inventory_interval_ms: number;
  command_timeout_ms: number;
}

/** Reads agent.yml (absent file: every default) and validates it; `overrides` are applied before validation. */
export function loadAgentConfig(
  path: string | undefined,
  overrides: { server?: string | undefined; state_dir?: string | undefined } = {},
): AgentConfig {
  let raw: Record<string, unknown> = {};
  if (path !== undefined) {
    const file = resolve(path);
    if (!existsSync(file)) throw new AgentConfigError(`agent config ${file} does not exist`);
    raw = parseYaml(file, readFileSync(file, "utf8"));
  }
  if (overrides.server !== undefined) raw.server = overrides.server;
  if (overrides.state_dir !== undefined) raw.state_dir = overrides.state_dir;
  return validateAgentConfig(raw, path ?? "defaults");
}

export function validateAgentConfig(raw: Record<string, unknown>, where: string): AgentConfig {
  const problems: string[] = [];
  const config = AGENT_CONFIG.read(raw, "", problems);
  if (problems.length > 0) {
    throw new AgentConfigError(`invalid agent config (${where}):\n  - ${problems.join("\n  - ")}`);
  }
  if (config.server !== "" && !/^https?:\/\/[^/]/.test(config.server)) {
    throw new AgentConfigError(`invalid agent config (${where}): "server" must be an http:// or https:// URL`);
  }
  const ms = (key: "interval" | "heartbeat_interval" | "inventory_interval" | "command_timeout") => {
    const value = parseDuration(config[key]);
    if (value === undefined || value < 100) {
      throw new AgentConfigError(`invalid agent config (${where}): "${key}" must be a duration of at least 100ms`);
    }
    return value;
  };
  return {
    ...config,
    state_dir: resolve(config.state_dir),
    interval_ms: ms("interval"),
    heartbeat_interval_ms: ms("heartbeat_interval"),
    inventory_interval_ms: ms("inventory_interval"),
    command_timeout_ms: ms("command_timeout"),
  };
}

function parseYaml(file: string, text: string): Record<string, unknown> {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0)
    throw new AgentConfigError(`agent config ${file} is not valid YAML: ${doc.errors[0]?.message}`);
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new AgentConfigError(`agent config ${file} must hold a mapping at its top level`);
  }
  return value as Record<string, unknown>;
}

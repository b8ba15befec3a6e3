import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import Type, { type Static } from "typebox";
import Value from "typebox/value";
import YAML from "yaml";
import { parseDuration } from "../lib/duration.js";

export class AgentConfigError extends Error {
  override name = "AgentConfigError";
}

// Closed objects: a misspelt key in agent.yml stops the agent at start-up, naming the key.
const Obj = <T extends Type.TProperties>(properties: T, description: string) =>
  Type.Object(properties, { additionalProperties: false, default: {}, description });
const Duration = (fallback: string, description: string) =>
  Type.String({ default: fallback, pattern: "^(\\d+(\\.\\d+)?(ms|s|m|h))+$", description });
const Enabled = (description: string) => Type.Boolean({ default: true, description });
const Command = (fallback: string) =>
  Type.String({ default: fallback, minLength: 1, description: "Program to run (looked up in PATH)." });

export const AgentConfigSchema = Type.Object(
  {
    server: Type.String({
      default: "",
      description: "Fleetledger server URL; `--server` wins, then this, then the server saved at enrolment.",
    }),
    state_dir: Type.String({
      default: "/var/lib/fleetledger-agent",
      description: "Credentials, log cursors, the spool and the inventory hash live here.",
    }),
    interval: Duration("30s", "How often metrics and new log lines are collected and pushed."),
    heartbeat_interval: Duration("60s", "How often a heartbeat is sent."),
    inventory_interval: Duration("15m", "How often host facts are read; the inventory is pushed only when it changed."),
    command_timeout: Duration("10s", "Longest time an exporter's command (nvidia-smi, ipmitool, …) may run."),
    log_level: Type.Union(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
      { default: "info", description: "The agent's own log level (pino)." },
    ),
    labels: Type.Record(Type.String({ pattern: "^[a-zA-Z_][a-zA-Z0-9_]*$" }), Type.String(), {
      default: {},
      description: "Extra labels added to every metric (a metric's own label of the same name wins).",
    }),
    exporters: Obj(
      {
        os: Obj({ enabled: Enabled("CPU, memory, disk, network and filesystem metrics.") }, "Host metrics."),
        docker: Obj(
          {
            enabled: Enabled("Per-container CPU and memory."),
            socket: Type.String({ default: "/var/run/docker.sock", description: "Docker Engine API socket." }),
          },
          "Docker containers.",
        ),
        nvidia: Obj({ enabled: Enabled("NVIDIA GPUs."), command: Command("nvidia-smi") }, "nvidia-smi."),
        ipmi: Obj({ enabled: Enabled("BMC sensors."), command: Command("ipmitool") }, "ipmitool sensor."),
        nvme: Obj(
          {
            enabled: Enabled("NVMe SMART health."),
            command: Command("nvme"),
            devices: Type.Array(Type.String(), {
              default: [],
              description: "Controllers to read (e.g. /dev/nvme0); empty: every controller in /sys/class/nvme.",
            }),
          },
          "nvme smart-log.",
        ),
      },
      "Metric exporters; each disables itself with one log line when its tool or socket is missing.",
    ),
    logs: Obj(
      {
        max_lines_per_cycle: Type.Integer({
          default: 1000,
          minimum: 1,
          description: "Most lines one source contributes to a batch; the rest follow in the next cycles.",
        }),
        journal: Obj({ enabled: Enabled("systemd journal."), command: Command("journalctl") }, "journalctl."),
        syslog: Obj(
          {
            enabled: Enabled("The syslog file."),
            path: Type.String({ default: "/var/log/syslog", description: "Syslog file to follow." }),
          },
          "Syslog file.",
        ),
        dmesg: Obj({ enabled: Enabled("Kernel ring buffer."), command: Command("dmesg") }, "dmesg."),
        docker: Obj(
          { enabled: Type.Boolean({ default: false, description: "Container stdout/stderr through the Docker API." }) },
          "Container logs (uses exporters.docker.socket).",
        ),
        files: Type.Array(
          Type.Object(
            {
              name: Type.String({ pattern: "^[A-Za-z0-9_.-]+$", description: "Sent as log source `file:<name>`." }),
              path: Type.String({ minLength: 1 }),
            },
            { additionalProperties: false },
          ),
          { default: [], description: "Other log files to follow, as [{name, path}]." },
        ),
      },
      "Log sources.",
    ),
    spool: Obj(
      {
        max_bytes: Type.Integer({
          default: 50 * 1024 * 1024,
          minimum: 1024,
          description: "Disk space for batches the server has not acknowledged; the oldest are dropped beyond it.",
        }),
      },
      "Batches kept while the server is unreachable.",
    ),
    commands: Obj(
      {
        enabled: Type.Boolean({ default: false, description: "Keep a WebSocket open for remote commands." }),
        allow_fan_control: Type.Boolean({ default: false, description: "Allow IPMI fan mode and speed commands." }),
        allow_ipmi_raw: Type.Boolean({ default: false, description: "Allow arbitrary `ipmitool raw` commands." }),
      },
      "Remote commands.",
    ),
    tls: Obj(
      {
        skip_verify: Type.Boolean({ default: false, description: "Accept any server certificate (testing only)." }),
        ca_file: Type.String({ default: "", description: "PEM file of extra CAs to trust for the server." }),
      },
      "TLS to the server.",
    ),
  },
  { additionalProperties: false },
);

export type AgentConfigFile = Static<typeof AgentConfigSchema>;

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
  Value.Default(AgentConfigSchema, raw);
  const problems: string[] = [];
  for (const error of Value.Errors(AgentConfigSchema, raw)) {
    if (error.keyword === "additionalProperties") continue;
    const key = error.instancePath.slice(1).replaceAll("/", ".");
    if (error.keyword === "boolean" && error.schemaPath.endsWith("additionalProperties")) {
      problems.push(`unknown key "${key}"`);
    } else {
      problems.push(`"${key || "(root)"}" ${error.message}`);
    }
  }
  if (problems.length > 0) {
    throw new AgentConfigError(`invalid agent config (${where}):\n  - ${[...new Set(problems)].join("\n  - ")}`);
  }
  const config = raw as AgentConfigFile;
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

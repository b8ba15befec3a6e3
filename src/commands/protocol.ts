// The wire contract of remote commands, shared by the server (which validates before sending) and the agent (which
// validates again before executing, since it is the side that runs ipmitool). Pure: no I/O.

export const COMMAND_TYPES = ["fan_control", "ipmi_raw", "system_info"] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

/** Supermicro BMC fan modes, as `ipmitool raw 0x30 0x45 0x01 <mode>` takes them. */
export const FAN_MODES = { standard: 0, full_speed: 1, optimal: 2, heavy_io: 4 } as const;
export type FanMode = keyof typeof FAN_MODES;

export type FanControl = { mode: FanMode } | { zone: number; percent: number };

export type Command =
  | { type: "fan_control"; data: FanControl }
  | { type: "ipmi_raw"; data: { args: string[] } }
  | { type: "system_info"; data: Record<string, never> };

/** Server → agent. */
export interface CommandRequest {
  id: string;
  command_type: CommandType;
  command_data: Record<string, unknown>;
}

/** Agent → server. */
export type CommandReply =
  | { id: string; status: "completed"; result: Record<string, unknown> }
  | { id: string; status: "error"; error: string };

const HEX_BYTE = /^0x[0-9a-fA-F]{1,2}$/;
// netfn + command at least; an IPMI request carries at most a few dozen data bytes.
const IPMI_ARGS_MIN = 2;
const IPMI_ARGS_MAX = 64;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function extraKeys(data: Record<string, unknown>, allowed: string[]): string | undefined {
  const extra = Object.keys(data).filter((key) => !allowed.includes(key));
  return extra.length > 0 ? `unexpected field(s) ${extra.join(", ")}` : undefined;
}

function parseFanControl(data: Record<string, unknown>): FanControl | string {
  if ("mode" in data) {
    const mode = data.mode;
    const extra = extraKeys(data, ["mode"]);
    if (extra) return `fan_control: ${extra}; send either {mode} or {zone, percent}`;
    if (typeof mode !== "string" || !Object.hasOwn(FAN_MODES, mode)) {
      return `fan_control: mode must be one of ${Object.keys(FAN_MODES).join(", ")}`;
    }
    return { mode: mode as FanMode };
  }
  if ("zone" in data || "percent" in data) {
    const extra = extraKeys(data, ["zone", "percent"]);
    if (extra) return `fan_control: ${extra}; send either {mode} or {zone, percent}`;
    if (!isIntegerIn(data.zone, 0, 255)) return "fan_control: zone must be an integer from 0 to 255";
    if (!isIntegerIn(data.percent, 0, 100)) return "fan_control: percent must be an integer from 0 to 100";
    return { zone: data.zone, percent: data.percent };
  }
  return "fan_control: command_data needs {mode} or {zone, percent}";
}

function parseIpmiRaw(data: Record<string, unknown>): { args: string[] } | string {
  const extra = extraKeys(data, ["args"]);
  if (extra) return `ipmi_raw: ${extra}`;
  const args = data.args;
  if (!Array.isArray(args) || args.length < IPMI_ARGS_MIN || args.length > IPMI_ARGS_MAX) {
    return `ipmi_raw: args must be an array of ${IPMI_ARGS_MIN} to ${IPMI_ARGS_MAX} hex bytes such as "0x30"`;
  }
  const bad = args.findIndex((arg) => typeof arg !== "string" || !HEX_BYTE.test(arg));
  if (bad >= 0) return `ipmi_raw: args[${bad}] is not a hex byte like "0x30"`;
  return { args: args as string[] };
}

/** A validated command, or the sentence that says what is wrong with it. */
export function parseCommand(type: unknown, data: unknown): Command | string {
  if (typeof type !== "string" || !(COMMAND_TYPES as readonly string[]).includes(type)) {
    return `command_type must be one of ${COMMAND_TYPES.join(", ")}`;
  }
  if (!isObject(data)) return "command_data must be an object";
  switch (type as CommandType) {
    case "fan_control": {
      const parsed = parseFanControl(data);
      return typeof parsed === "string" ? parsed : { type: "fan_control", data: parsed };
    }
    case "ipmi_raw": {
      const parsed = parseIpmiRaw(data);
      return typeof parsed === "string" ? parsed : { type: "ipmi_raw", data: parsed };
    }
    case "system_info": {
      const extra = extraKeys(data, []);
      return extra ? `system_info: ${extra}` : { type: "system_info", data: {} };
    }
  }
}

/** An agent's answer; undefined when the message is not one (it is then logged and dropped). */
export function parseReply(text: string): CommandReply | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(message) || typeof message.id !== "string" || message.id === "") return undefined;
  if (message.status === "completed" && isObject(message.result)) {
    return { id: message.id, status: "completed", result: message.result };
  }
  if (message.status === "error" && typeof message.error === "string") {
    return { id: message.id, status: "error", error: message.error };
  }
  return undefined;
}

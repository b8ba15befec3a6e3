import { execFile } from "node:child_process";
import os from "node:os";
import { promisify } from "node:util";
import { type Command, FAN_MODES, type FanControl } from "../commands/protocol.js";

const run = promisify(execFile);

// A BMC answers raw requests in well under a second; a wedged one must not hold the command past the server's wait.
const IPMITOOL_TIMEOUT_MS = 15_000;
const IPMITOOL_MAX_OUTPUT = 64 * 1024;

export interface CommandPolicy {
  allowFanControl: boolean;
  allowIpmiRaw: boolean;
  /** Path or name of the ipmitool binary. */
  ipmitool: string;
}

function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, "0")}`;
}

/** `ipmitool` arguments of a Supermicro fan command: set the BMC fan mode, or one zone's duty cycle. */
export function fanControlArgs(control: FanControl): string[] {
  if ("mode" in control) return ["raw", "0x30", "0x45", "0x01", hexByte(FAN_MODES[control.mode])];
  return ["raw", "0x30", "0x70", "0x66", "0x01", hexByte(control.zone), hexByte(control.percent)];
}

async function ipmitool(path: string, args: string[]): Promise<Record<string, unknown>> {
  try {
    // An argument array and no shell: nothing in a command can reach a shell parser.
    const { stdout } = await run(path, args, {
      timeout: IPMITOOL_TIMEOUT_MS,
      maxBuffer: IPMITOOL_MAX_OUTPUT,
      encoding: "utf8",
    });
    return { args, stdout: stdout.trim() };
  } catch (err) {
    const failure = err as NodeJS.ErrnoException & { stderr?: string; killed?: boolean; code?: string | number };
    if (failure.code === "ENOENT") throw new Error(`ipmitool not found at ${path}`);
    if (failure.killed) throw new Error(`ipmitool did not finish within ${IPMITOOL_TIMEOUT_MS / 1000} s`);
    const stderr = failure.stderr?.trim();
    throw new Error(`ipmitool exited with code ${failure.code}${stderr ? `: ${stderr}` : ""}`);
  }
}

// Cheap facts only: this answers an operator waiting on the other end, not a collector.
function systemInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    os: os.type(),
    os_version: os.version(),
    kernel: os.release(),
    arch: os.arch(),
    uptime_seconds: Math.round(os.uptime()),
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? null,
    memory_total_bytes: os.totalmem(),
    memory_free_bytes: os.freemem(),
    load_average: os.loadavg(),
  };
}

/** Runs one validated command; a refusal or failure throws with the sentence the server shows the operator. */
export async function executeCommand(command: Command, policy: CommandPolicy): Promise<Record<string, unknown>> {
  switch (command.type) {
    case "system_info":
      return systemInfo();
    case "fan_control":
      if (!policy.allowFanControl) throw new Error("fan_control is disabled in this agent's configuration");
      return ipmitool(policy.ipmitool, fanControlArgs(command.data));
    case "ipmi_raw":
      if (!policy.allowIpmiRaw) throw new Error("ipmi_raw is disabled in this agent's configuration");
      return ipmitool(policy.ipmitool, ["raw", ...command.data.args]);
  }
}

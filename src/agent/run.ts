import pino, { type Logger } from "pino";
import { Agent } from "./agent.js";
import { componentsOf } from "./components.js";
import { loadAgentConfig } from "./config.js";
import { loadCredentials } from "./credentials.js";
import { readFactsInChild } from "./facts-process.js";

export interface RunOptions {
  configPath?: string | undefined;
  server?: string | undefined;
  stateDir?: string | undefined;
}

/** `fleetledger agent run`: the agent until SIGINT/SIGTERM. */
export async function runAgent(options: RunOptions): Promise<void> {
  const config = loadAgentConfig(options.configPath, { server: options.server, state_dir: options.stateDir });
  const credentials = loadCredentials(config.state_dir);
  const serverUrl = config.server || credentials.server;
  const log: Logger = pino({ level: config.log_level, base: { component: "agent" } });
  const agent = new Agent({
    config,
    credentials,
    serverUrl,
    log,
    ...componentsOf(config),
    readFacts: () => readFactsInChild(),
  });
  await agent.start();
  agent.loop();
  let channel: { stop(): Promise<void> } | undefined;
  if (config.commands.enabled) {
    const { startCommandChannel } = await import("./command-channel.js");
    channel = startCommandChannel({
      serverUrl,
      token: credentials.client_token,
      allowFanControl: config.commands.allow_fan_control,
      allowIpmiRaw: config.commands.allow_ipmi_raw,
      ipmitool: config.exporters.ipmi.command,
      log,
    });
  }
  log.info({ server: serverUrl, interval_ms: config.interval_ms, state_dir: config.state_dir }, "agent running");
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, "agent stopping");
      void Promise.all([agent.stop(), channel?.stop()]).then(() => resolve());
    };
    process.once("SIGINT", () => shutdown("SIGINT"));
    process.once("SIGTERM", () => shutdown("SIGTERM"));
  });
}

import type { Command } from "commander";
import { RUNNING_BUNDLE } from "./entry.js";

// Command definitions only: every action loads its modules when it runs, so other fleetledger commands do not pay
// for the agent's code, and the agent does not pay for the server's.

const DEFAULT_STATE_DIR = "/var/lib/fleetledger-agent";

/** Errors an operator fixes (bad config, not enrolled, server refused): one line and exit code 2, no stack. */
const OPERATOR_ERRORS = new Set(["AgentConfigError", "AgentBundleError", "CredentialsError", "EnrolError"]);

class AgentBundleError extends Error {
  override name = "AgentBundleError";
}

function reported<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (!(err instanceof Error) || !OPERATOR_ERRORS.has(err.name)) throw err;
      process.stderr.write(`fleetledger agent: ${err.message}\n`);
      process.exitCode = 2;
    }
  };
}

interface RunFlags {
  server?: string;
  config?: string;
  stateDir?: string;
}

async function run(flags: RunFlags, command: Command): Promise<void> {
  // `--config` may be taken by the fleetledger program's own global option; both name agent.yml here.
  const all = command.optsWithGlobals() as RunFlags;
  const { runAgent } = await import("./run.js");
  await runAgent({ configPath: flags.config ?? all.config, server: flags.server, stateDir: flags.stateDir });
}

/** Adds `agent` (run / enroll / install-service) to a commander program. */
export function addAgentCommands(program: Command): Command {
  const agent = program
    .command("agent")
    .description("the host agent: metrics, logs, inventory and remote commands pushed to a Fleetledger server")
    .addHelpText("after", "\n`fleetledger agent --server URL --config agent.yml` is `fleetledger agent run`.");

  agent
    .command("run", { isDefault: true })
    .description("run the agent until stopped (SIGINT/SIGTERM)")
    .option("--server <url>", "server URL (overrides agent.yml and the URL saved at enrolment)")
    .option("--config <file>", "agent settings (agent.yml); every setting has a default")
    .option("--state-dir <dir>", `credentials, cursors and spool (default from agent.yml, else ${DEFAULT_STATE_DIR})`)
    .action(reported(run));

  agent
    .command("enroll")
    .description("register this host with an enrolment token and store its credentials (0600) in the state dir")
    .requiredOption("--server <url>", "server URL")
    .requiredOption("--token <token>", "enrolment token (`fleetledger token create --role enroll`)")
    .option("--org <org>", "organization to register into (default: the server's telemetry.default_org)")
    .option("--state-dir <dir>", "state dir (default from --config, else /var/lib/fleetledger-agent)")
    .option("--config <file>", "agent settings, for state_dir and tls")
    .option("--json", "print JSON")
    .action(
      reported(
        async (
          flags: { server: string; token: string; org?: string; stateDir?: string; config?: string; json?: boolean },
          command: Command,
        ) => {
          const { loadAgentConfig } = await import("./config.js");
          const { enrol } = await import("./enroll.js");
          const all = command.optsWithGlobals() as { config?: string };
          const config = loadAgentConfig(flags.config ?? all.config, { state_dir: flags.stateDir });
          const { credentials, path } = await enrol({
            server: flags.server,
            token: flags.token,
            stateDir: config.state_dir,
            ...(flags.org ? { org: flags.org } : {}),
            skipVerify: config.tls.skip_verify,
            ...(config.tls.ca_file ? { caFile: config.tls.ca_file } : {}),
          });
          process.stdout.write(
            flags.json
              ? `${JSON.stringify({ client_id: credentials.client_id, system_key: credentials.system_key, credentials: path })}\n`
              : `enrolled as system ${credentials.system_key} (client ${credentials.client_id}); credentials in ${path}\n`,
          );
        },
      ),
    );

  agent
    .command("install-service")
    .description("write a systemd unit for the agent and print the systemctl commands to start it")
    .option("--config <file>", "agent.yml the service runs with", "/etc/fleetledger/agent.yml")
    .option("--unit-path <file>", "where to write the unit", "/etc/systemd/system/fleetledger-agent.service")
    .option("--user <user>", "user the agent runs as", "root")
    .option("--state-dir <dir>", "state dir the unit may write", DEFAULT_STATE_DIR)
    .option(
      "--bundle <file>",
      RUNNING_BUNDLE
        ? `the agent bundle the unit runs (default: this one, ${RUNNING_BUNDLE})`
        : "the agent bundle the unit runs, built from the sources first (default: dist/fleetledger-agent.mjs)",
    )
    .action(
      reported(async (flags: { config: string; unitPath: string; user: string; stateDir: string; bundle?: string }) => {
        const { existsSync, writeFileSync } = await import("node:fs");
        const { resolve } = await import("node:path");
        const { systemctlHint, unitFile } = await import("./service.js");
        let bundle: string;
        if (RUNNING_BUNDLE) {
          bundle = resolve(flags.bundle ?? RUNNING_BUNDLE);
          if (!existsSync(bundle)) throw new AgentBundleError(`agent bundle ${bundle} does not exist`);
        } else {
          const { buildAgentBundle, defaultBundlePath } = await import("./build.js");
          bundle = (await buildAgentBundle(resolve(flags.bundle ?? defaultBundlePath()))).path;
          process.stdout.write(`built ${bundle}\n`);
        }
        const unitPath = resolve(flags.unitPath);
        writeFileSync(
          unitPath,
          unitFile({ bundle, configPath: resolve(flags.config), stateDir: resolve(flags.stateDir), user: flags.user }),
          { mode: 0o644 },
        );
        process.stdout.write(`${systemctlHint(unitPath)}\n`);
      }),
    );

  // Building needs the sources and esbuild; a bundle cannot rebuild itself.
  if (!RUNNING_BUNDLE) {
    agent
      .command("build")
      .description("write the agent as one JavaScript file, which the systemd unit runs (no TypeScript at run time)")
      .option("--out <file>", "where to write it (default: dist/fleetledger-agent.mjs in this checkout)")
      .action(async (flags: { out?: string }) => {
        const { resolve } = await import("node:path");
        const { buildAgentBundle, defaultBundlePath } = await import("./build.js");
        const { path, bytes } = await buildAgentBundle(resolve(flags.out ?? defaultBundlePath()));
        process.stdout.write(`wrote ${path} (${Math.round(bytes / 1024)} KiB)\n`);
      });
  }

  agent
    .command("facts", { hidden: true })
    .description("print the host facts the inventory is built from, as JSON (run by the agent in a child process)")
    .action(async () => {
      const { readFactSources } = await import("./facts.js");
      process.stdout.write(JSON.stringify(await readFactSources()));
    });
  return agent;
}

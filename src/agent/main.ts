import { Command } from "commander";
import { addAgentCommands } from "./cli.js";

// The agent's own entry point: what `fleetledger agent build` bundles into dist/fleetledger-agent.mjs, which the
// systemd unit runs as `node --max-semi-space-size=1 dist/fleetledger-agent.mjs run --config /etc/fleetledger/agent.yml`.
// From a checkout it also runs as is: node --import src/agent/ts-resolve.ts src/agent/main.ts run --config agent.yml
// It holds the agent alone — not the fleetledger CLI with its server, database and dashboard modules.
const program = new Command().name("fleetledger-agent").showHelpAfterError();
addAgentCommands(program);
program.parseAsync(["node", "fleetledger-agent", "agent", ...process.argv.slice(2)]).catch((err: unknown) => {
  process.stderr.write(`fleetledger agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

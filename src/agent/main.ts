import { Command } from "commander";
import { addAgentCommands } from "./cli.js";

// The agent's own entry point, run by the systemd unit as
//   node --import src/agent/ts-resolve.ts src/agent/main.ts run --config /etc/fleetledger/agent.yml
// It loads the agent alone — not the fleetledger CLI with its server, database and dashboard modules.
const program = new Command().name("fleetledger-agent").showHelpAfterError();
addAgentCommands(program);
program.parseAsync(["node", "fleetledger-agent", "agent", ...process.argv.slice(2)]).catch((err: unknown) => {
  process.stderr.write(`fleetledger agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

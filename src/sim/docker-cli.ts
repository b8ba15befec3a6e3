import { parseArgs } from "node:util";
import { startDockerSim } from "./docker.js";

// A demo Docker Engine for an agent to point `exporters.docker.socket` at:
//   tsx src/sim/docker-cli.ts --socket /tmp/docker.sock --containers 5
// Containers log a line every few seconds; it serves until interrupted.

const { values } = parseArgs({
  options: {
    socket: { type: "string", default: "/tmp/fleetledger-docker-sim.sock" },
    port: { type: "string" },
    containers: { type: "string", default: "3" },
  },
});
const count = Number(values.containers);
if (!Number.isInteger(count) || count < 0) throw new Error("--containers must be a non-negative integer");
const sim = await startDockerSim({
  socketPath: values.socket,
  ...(values.port === undefined ? {} : { port: Number(values.port) }),
});
for (let i = 0; i < count; i++) {
  sim.addContainer({ name: `demo-${i}`, labels: { "com.docker.compose.project": "demo" }, cpuPercent: 10 * (i + 1) });
}
const timer = setInterval(() => {
  for (let i = 0; i < count; i++) sim.appendLog(`demo-${i}`, i % 2 ? "stderr" : "stdout", `tick from demo-${i}`);
}, 5000);
process.stdout.write(`${JSON.stringify({ socket: sim.socketPath, url: sim.url ?? null, containers: count })}\n`);
const stop = () => {
  clearInterval(timer);
  void sim.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

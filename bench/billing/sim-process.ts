import { type CloudFoundrySim, startCloudFoundrySim } from "../../src/sim/cloudfoundry.js";
import { type FoundationOptions, type Loaded, loadFoundation } from "./foundation.js";

/*
 * The simulator runs in its own process: its copy of the history (hundreds of MB for a million events) and the CPU
 * it spends answering pages stay out of the numbers of the process that ingests and bills, and can be reported
 * apart. The parent passes the foundation's options as JSON in argv[2] and talks over the IPC channel.
 */

export type ToSim = { type: "usage" } | { type: "stop" };

export interface SimUsage {
  /** Answered list requests per path: one per page. */
  pages: Record<string, number>;
  tokens: number;
}

export type FromSim =
  | { type: "ready"; url: string; loaded: Loaded; rss_bytes: number }
  | { type: "usage"; usage: SimUsage }
  | { type: "failed"; error: string };

const send = (message: FromSim) =>
  new Promise<void>((resolve) => {
    if (process.send) process.send(message, undefined, {}, () => resolve());
    else resolve();
  });

function usage(sim: CloudFoundrySim): SimUsage {
  const pages: Record<string, number> = {};
  for (const request of sim.requests) {
    if (request.target !== "api" || !request.authorized || request.status !== 200) continue;
    pages[request.path] = (pages[request.path] ?? 0) + 1;
  }
  return { pages, tokens: sim.tokensIssued };
}

// Nothing else would end this process if the bench died: the HTTP servers keep it alive.
process.once("disconnect", () => process.exit());

try {
  const options = JSON.parse(process.argv[2] ?? "") as FoundationOptions;
  const sim = await startCloudFoundrySim();
  const loaded = loadFoundation(sim, options);
  process.on("message", (message: ToSim) => {
    if (message.type === "usage") void send({ type: "usage", usage: usage(sim) });
    else void sim.stop().finally(() => process.exit(0));
  });
  await send({ type: "ready", url: sim.url, loaded, rss_bytes: process.memoryUsage().rss });
} catch (err) {
  process.exitCode = 1;
  await send({ type: "failed", error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.disconnect();
}

import { execFile } from "node:child_process";
import { agentEntryArgs } from "./entry.js";
import type { FactSources } from "./facts.js";

/**
 * Host facts read by the agent's hidden `facts` command in a short-lived Node process: systeminformation adds
 * ~30 MB of resident memory to whatever loads it, and the inventory is read once every `inventory_interval`, so the
 * long-running agent never loads it. The child is the agent's own entry point (the bundle, or main.ts).
 */
export function readFactsInChild(timeoutMs = 120_000): Promise<FactSources> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...agentEntryArgs(), "facts"],
      { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`reading host facts failed: ${stderr.trim().split("\n").pop() || error.message}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout) as FactSources);
        } catch (err) {
          reject(new Error(`reading host facts gave no JSON: ${(err as Error).message}`));
        }
      },
    );
  });
}

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FactSources } from "./facts.js";

const CHILD = fileURLToPath(new URL("facts-child.ts", import.meta.url));
const RESOLVE_HOOK = fileURLToPath(new URL("ts-resolve.ts", import.meta.url));

/** Host facts read by `facts-child.ts` in its own Node process (run with built-in type stripping). */
export function readFactsInChild(timeoutMs = 120_000): Promise<FactSources> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", "--import", RESOLVE_HOOK, CHILD],
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

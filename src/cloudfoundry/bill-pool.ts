import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Settings } from "../config/schema.js";
import type { BillChunkRequest, BillChunkResult } from "./billing.js";

/** Threads a bill may use: `billing.bill_workers`, or one per core when it is 0. */
export function billWorkerCount(settings: Settings): number {
  return settings.billing.bill_workers > 0 ? settings.billing.bill_workers : availableParallelism();
}

// The source runs through tsx; a worker gets the same loader so it can import the TypeScript modules.
const WORKER_URL = new URL("./bill-worker.ts", import.meta.url);
const TSX = import.meta.resolve("tsx");

/**
 * Runs bill slices on `threads` worker threads, each with its own database connection; every thread takes the
 * next slice when it finishes one, so a slice of large organizations does not hold the others up. Results come
 * back in the order of the requests. The first failure stops the pool and is thrown.
 */
export async function runBillChunks(
  settings: Settings,
  schema: string | undefined,
  requests: readonly BillChunkRequest[],
  threads: number,
): Promise<BillChunkResult[]> {
  const results: BillChunkResult[] = new Array(requests.length);
  let next = 0;
  const workers: Worker[] = [];
  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData: { settings, schema }, execArgv: ["--import", TSX] });
      workers.push(worker);
      const send = () => {
        if (next >= requests.length) {
          worker.postMessage("close");
          return;
        }
        const id = next++;
        worker.postMessage({ id, request: requests[id] });
      };
      worker.on("message", (message: "ready" | { id: number; result?: BillChunkResult; error?: string }) => {
        if (message === "ready") return send();
        if (message.error !== undefined || !message.result) {
          reject(new Error(`bill worker: ${message.error ?? "no result"}`));
          return;
        }
        results[message.id] = message.result;
        send();
      });
      worker.once("error", reject);
      worker.once("exit", (code) => {
        if (code === 0) resolve();
        else reject(new Error(`bill worker exited with code ${code}`));
      });
    });
  try {
    await Promise.all(Array.from({ length: Math.min(threads, requests.length) }, runWorker));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

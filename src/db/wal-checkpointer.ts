import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { type Kysely, sql } from "kysely";
import type { Logger } from "pino";
import type { DB } from "./types.js";

/** SQLite's own default, used again whenever the checkpoint thread is not running. */
const AUTOCHECKPOINT_PAGES = 1000;
/**
 * While the thread runs, the writer still checkpoints past this many WAL pages (~40 MB). It rarely gets there:
 * the thread has copied nearly every page by then, so that checkpoint is short.
 */
const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

// Plain JavaScript run with `eval`, so the thread loads better-sqlite3 and nothing else: no TypeScript loader.
const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("synchronous = NORMAL");
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage(String(err && err.message ? err.message : err));
  }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface WalCheckpointer {
  close(): Promise<void>;
}

/**
 * Copies the SQLite write-ahead log into the database file from its own thread and connection. Left to SQLite, the
 * connection that commits runs the checkpoint every 1,000 pages, fsyncs included, and for the embedded server that
 * connection is the event loop: under inventory ingest the commits that happened to checkpoint took a sixth of the
 * server thread. A passive checkpoint never blocks readers or the writer; a commit is as durable as before, since
 * durability comes from the WAL, not from the checkpoint.
 */
export async function startWalCheckpointer(
  db: Kysely<DB>,
  file: string,
  log: Logger,
  intervalMs = 1000,
): Promise<WalCheckpointer> {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { driver, file, intervalMs } });
  worker.unref();
  let running = true;
  const fallBack = async (why: string) => {
    if (!running) return;
    running = false;
    log.error({ why }, "WAL checkpoint thread stopped; the server checkpoints itself again");
    await sql`pragma wal_autocheckpoint = ${sql.raw(String(AUTOCHECKPOINT_PAGES))}`.execute(db).catch(() => undefined);
  };
  worker.on("message", (message: string) => log.warn({ err: message }, "WAL checkpoint failed"));
  worker.on("error", (err) => void fallBack(err.message));
  worker.on("exit", (code) => void fallBack(`exit code ${code}`));
  await sql`pragma wal_autocheckpoint = ${sql.raw(String(FALLBACK_AUTOCHECKPOINT_PAGES))}`.execute(db);
  return {
    async close() {
      if (!running) return;
      running = false;
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      // Unreferenced, the thread would not keep a process that has nothing else to do alive until it exited.
      worker.ref();
      worker.postMessage("close");
      await exited;
      await sql`pragma wal_autocheckpoint = ${sql.raw(String(AUTOCHECKPOINT_PAGES))}`.execute(db);
    },
  };
}

import { parentPort, workerData } from "node:worker_threads";
import { sql } from "kysely";
import { openDatabase } from "../db/connect.js";
import type { ValidatedBatch } from "./batch.js";
import { TelemetryIngest } from "./ingest.js";

/**
 * The metric writer thread: its own SQLite connection and series cache, writing the batches the HTTP thread
 * validated. Group commit works here as in-process: batches that arrive while one transaction is written share
 * the next.
 */
export interface WriterThreadData {
  url: string;
  maxSeriesPerSystem: number;
}

export type WriterRequest = { id: number; systemId: string; batch: ValidatedBatch; now: number } | "close";

const { url, maxSeriesPerSystem } = workerData as WriterThreadData;
const port = parentPort;
if (!port) throw new Error("ingest-thread runs as a worker thread");
const database = await openDatabase(url, { poolSize: 1 });
// The server's checkpoint thread copies the WAL (it runs whenever this thread does: both need a database file).
// Appending a point to each of many series dirties many B-tree pages per batch, so under the metrics bench the WAL
// grows by 40–50 MB/s: at SQLite's 1,000 pages (4 MB) this connection checkpointed, fsyncs included, several times
// a second and waited in fsync about a quarter of its time. 50,000 pages (200 MB) only bounds the WAL should the
// checkpoint thread stop.
await sql`pragma wal_autocheckpoint = 50000`.execute(database.db);
const ingest = new TelemetryIngest({ db: database.db, dialect: database.dialect, maxSeriesPerSystem });

port.on("message", (message: WriterRequest) => {
  if (message === "close") {
    void database.close().then(() => port.close());
    return;
  }
  ingest.write(message.systemId, message.batch, message.now).then(
    (result) => port.postMessage({ id: message.id, result }),
    (err: unknown) =>
      port.postMessage({ id: message.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
});

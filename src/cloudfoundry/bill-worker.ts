import { parentPort, workerData } from "node:worker_threads";
import type { Settings } from "../config/schema.js";
import { openDatabase, resolveDatabaseUrl } from "../db/connect.js";
import { billChunk, type BillChunkRequest, compileBillingSettings } from "./billing.js";

/** A bill worker thread: its own database connection, answering one organization slice per message. */
const { settings, schema } = workerData as { settings: Settings; schema?: string };
const port = parentPort;
if (!port) throw new Error("bill-worker runs as a worker thread");
const database = await openDatabase(resolveDatabaseUrl(settings.database.url, settings.data_dir), {
  poolSize: 1,
  ...(schema ? { schema } : {}),
});
const deps = { db: database.db, settings, plans: compileBillingSettings(settings), onUnpriced: () => undefined };

port.on("message", async (message: { id: number; request: BillChunkRequest } | "close") => {
  if (message === "close") {
    await database.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ id: message.id, result: await billChunk(deps, message.request) });
  } catch (err) {
    port.postMessage({ id: message.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
});
port.postMessage("ready");

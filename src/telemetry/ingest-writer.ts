import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { ValidatedBatch } from "./batch.js";
import type { IngestResult, TelemetryIngest } from "./ingest.js";
import type { WriterRequest, WriterThreadData } from "./ingest-thread.js";

/** Where validated metric batches go: written in this thread, or handed to the writer thread. */
export interface MetricWriter {
  write(systemId: string, batch: ValidatedBatch, now: number): Promise<IngestResult>;
  close(): Promise<void>;
}

export function inProcessWriter(ingest: TelemetryIngest): MetricWriter {
  return { write: (systemId, batch, now) => ingest.write(systemId, batch, now), close: async () => undefined };
}

// The source runs through tsx; the thread gets the same loader so it can import the TypeScript modules.
const THREAD_URL = new URL("./ingest-thread.ts", import.meta.url);
const TSX = import.meta.resolve("tsx");

interface Waiting {
  resolve(result: IngestResult): void;
  reject(err: Error): void;
}

/**
 * SQLite takes one writer at a time, and in one thread its inserts and the HTTP handling (parsing, validation)
 * take turns on one core. With the inserts on their own thread the two run side by side on two cores. A batch is
 * answered only after the thread committed it, so an acknowledged batch is as durable as in-process.
 *
 * A thread that dies fails the batches it held (their senders retry) and is replaced on the next write.
 */
export class ThreadedWriter implements MetricWriter {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly data: WriterThreadData,
    private readonly log: Logger,
  ) {}

  write(systemId: string, batch: ValidatedBatch, now: number): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new Error("the metric writer is closed"));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, systemId, batch, now } satisfies WriterRequest);
    });
  }

  private start(): Worker {
    const worker = new Worker(THREAD_URL, { workerData: this.data, execArgv: ["--import", TSX] });
    worker.on("message", (message: { id: number; result?: IngestResult; error?: string }) => {
      const waiting = this.waiting.get(message.id);
      if (!waiting) return;
      this.waiting.delete(message.id);
      if (message.result) waiting.resolve(message.result);
      else waiting.reject(new Error(`metric writer: ${message.error ?? "no result"}`));
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (!this.closed) this.log.error({ why }, "metric writer thread stopped; it restarts with the next batch");
      const failed = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of failed) w.reject(new Error(`metric writer thread stopped: ${why}`));
    };
    worker.on("error", (err) => lost(err.message));
    worker.on("exit", (code) => lost(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  /** Lets the batches in flight finish, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const deadline = Date.now() + 10_000;
    while (this.waiting.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.postMessage("close" satisfies WriterRequest);
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

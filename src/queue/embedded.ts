import { randomUUID } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Logger } from "pino";
import type { Dialect } from "../db/connect.js";
import type { DB, JobsTable } from "../db/types.js";
import { iso } from "../lib/time.js";
import { retryDelayMs } from "./backoff.js";
import type { DeadJob, JobHandler, Queue, QueueDepth } from "./types.js";

export interface EmbeddedQueueOptions {
  concurrency: number;
  batchSize: number;
  pollIntervalMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  leaseSeconds: number;
}

export interface QueueEvents {
  onJobDone?(queue: string, result: "completed" | "retried" | "dead", seconds: number): void;
}

type ClaimedJob = Pick<JobsTable, "queue" | "payload" | "attempts" | "max_attempts" | "created_at" | "run_at"> & {
  id: number;
  weight: number;
};

/** Durable queue in the application database: a `jobs` table, polled by in-process workers. */
export class EmbeddedQueue implements Queue {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly workerId = randomUUID();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pending = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    readonly options: EmbeddedQueueOptions,
    private readonly log: Logger,
    private readonly events: QueueEvents = {},
  ) {}

  async enqueue(trx: Transaction<DB> | Kysely<DB>, queue: string, payload: unknown, weight = 1): Promise<number> {
    const now = iso(Date.now());
    const row = await trx
      .insertInto("jobs")
      .values({
        queue,
        payload: JSON.stringify(payload),
        state: "pending",
        attempts: 0,
        max_attempts: this.options.maxAttempts,
        run_at: now,
        created_at: now,
        weight,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    this.pending += weight;
    return row.id;
  }

  register(queue: string, handler: JobHandler): void {
    this.handlers.set(queue, handler);
  }

  notify(): void {
    this.wake?.();
  }

  pendingEstimate(): number {
    return this.pending;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let worked = 0;
      try {
        worked = await this.runBatch();
      } catch (err) {
        this.log.error({ err }, "queue poll failed");
      }
      if (worked === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollIntervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  async drain(onProgress?: (done: number) => void): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runBatch();
      if (n === 0) return total;
      total += n;
      onProgress?.(total);
    }
  }

  /**
   * Claims up to batchSize ready jobs and runs them with bounded concurrency. Returns the items they stood for
   * (their summed weights), which is 0 exactly when no job was ready.
   */
  private async runBatch(): Promise<number> {
    const queues = [...this.handlers.keys()];
    if (queues.length === 0) return 0;
    const jobs = await this.claim(queues);
    if (jobs.length === 0) {
      await this.refreshPending();
      return 0;
    }
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++] as ClaimedJob;
        await this.execute(job);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, jobs.length) }, worker));
    const items = jobs.reduce((sum, job) => sum + job.weight, 0);
    this.pending = Math.max(0, this.pending - items);
    return items;
  }

  private async claim(queues: string[]): Promise<ClaimedJob[]> {
    const now = iso(Date.now());
    const leaseUntil = iso(Date.now() + this.options.leaseSeconds * 1000);
    return this.db.transaction().execute(async (trx) => {
      let ready = trx
        .selectFrom("jobs")
        .select("id")
        .where("state", "=", "pending")
        .where("queue", "in", queues)
        .where("run_at", "<=", now)
        .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", now)]))
        .orderBy("run_at")
        .orderBy("id")
        .limit(this.options.batchSize);
      // Several workers may poll one PostgreSQL database; SKIP LOCKED hands each of them different jobs.
      if (this.dialect === "postgres") ready = ready.forUpdate().skipLocked();
      const ids = (await ready.execute()).map((r) => r.id);
      if (ids.length === 0) return [];
      return trx
        .updateTable("jobs")
        .set({ locked_until: leaseUntil, locked_by: this.workerId })
        .where("id", "in", ids)
        .returning(["id", "queue", "payload", "attempts", "max_attempts", "created_at", "run_at", "weight"])
        .execute();
    });
  }

  private async execute(job: ClaimedJob): Promise<void> {
    const handler = this.handlers.get(job.queue);
    const started = performance.now();
    // Keeps the lease short (so a crashed worker's jobs come back quickly) without losing long-running jobs.
    const renew = setInterval(
      () => {
        this.db
          .updateTable("jobs")
          .set({ locked_until: iso(Date.now() + this.options.leaseSeconds * 1000) })
          .where("id", "=", job.id)
          .where("locked_by", "=", this.workerId)
          .execute()
          .catch((err: unknown) => this.log.warn({ err, job: job.id }, "could not renew job lease"));
      },
      (this.options.leaseSeconds * 1000) / 3,
    );
    try {
      if (!handler) throw new Error(`no handler for queue ${job.queue}`);
      await handler(JSON.parse(job.payload), { id: job.id, queue: job.queue, attempts: job.attempts });
      await this.db.deleteFrom("jobs").where("id", "=", job.id).where("locked_by", "=", this.workerId).execute();
      this.events.onJobDone?.(job.queue, "completed", (performance.now() - started) / 1000);
    } catch (err) {
      const attempts = job.attempts + 1;
      const message = err instanceof Error ? err.message : String(err);
      const dead = attempts >= job.max_attempts;
      const delay = retryDelayMs(attempts, this.options.backoffBaseMs, this.options.backoffCapMs);
      await this.db
        .updateTable("jobs")
        .set({
          attempts,
          last_error: message.slice(0, 2000),
          state: dead ? "dead" : "pending",
          run_at: dead ? iso(Date.now()) : iso(Date.now() + delay),
          locked_until: null,
          locked_by: null,
        })
        .where("id", "=", job.id)
        .execute();
      this.log.warn({ job: job.id, queue: job.queue, attempts, dead, err: message }, "job failed");
      this.events.onJobDone?.(job.queue, dead ? "dead" : "retried", (performance.now() - started) / 1000);
    } finally {
      clearInterval(renew);
    }
  }

  private async refreshPending(): Promise<void> {
    const row = await this.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.sum<number>("weight").as("n"))
      .where("state", "=", "pending")
      .executeTakeFirst();
    this.pending = Number(row?.n ?? 0);
  }

  async depth(): Promise<QueueDepth[]> {
    const now = Date.now();
    const rows = await this.db
      .selectFrom("jobs")
      .select(["queue", "state", (eb) => eb.fn.countAll<number>().as("n"), (eb) => eb.fn.min("run_at").as("oldest")])
      .groupBy(["queue", "state"])
      .execute();
    const byQueue = new Map<string, QueueDepth>();
    for (const name of this.handlers.keys()) byQueue.set(name, { queue: name, pending: 0, dead: 0, lag_seconds: 0 });
    for (const row of rows) {
      const entry = byQueue.get(row.queue) ?? { queue: row.queue, pending: 0, dead: 0, lag_seconds: 0 };
      if (row.state === "dead") entry.dead = Number(row.n);
      else {
        entry.pending = Number(row.n);
        entry.lag_seconds = Math.max(0, (now - new Date(String(row.oldest)).getTime()) / 1000);
      }
      byQueue.set(row.queue, entry);
    }
    return [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
  }

  async listDead(limit: number, offset: number): Promise<DeadJob[]> {
    const rows = await this.db
      .selectFrom("jobs")
      .select(["id", "queue", "payload", "attempts", "last_error", "created_at", "run_at"])
      .where("state", "=", "dead")
      .orderBy("id", "desc")
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      queue: r.queue,
      payload: JSON.parse(r.payload),
      attempts: r.attempts,
      last_error: r.last_error,
      created_at: r.created_at,
      failed_at: r.run_at,
    }));
  }

  async retryDead(id: number): Promise<boolean> {
    const result = await this.db
      .updateTable("jobs")
      .set({ state: "pending", attempts: 0, run_at: iso(Date.now()), locked_until: null, locked_by: null })
      .where("id", "=", id)
      .where("state", "=", "dead")
      .returning("weight")
      .executeTakeFirst();
    if (!result) return false;
    this.pending += result.weight;
    this.notify();
    return true;
  }
}

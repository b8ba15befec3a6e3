import type { Logger } from "pino";
import { retryDelayMs } from "../queue/backoff.js";
import type { PushOutcome } from "./server-api.js";
import type { Batch, BatchPayload, Spool } from "./spool.js";
import type { JsonStore } from "./state-files.js";

export interface AgentCounters {
  dropped_batches: number;
  refused_batches: number;
}

export interface OutboxOptions {
  spool: Spool;
  /** Log cursors of acknowledged batches: where reading resumes after the spool is lost. */
  cursors: JsonStore<Record<string, string>>;
  counters: JsonStore<AgentCounters>;
  send: (payload: BatchPayload) => Promise<PushOutcome>;
  log: Logger;
  now?: () => number;
  random?: () => number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

/**
 * Delivery of metric/log batches in creation order. A batch goes straight to the server when nothing older waits;
 * otherwise (or when the send fails) it joins the disk spool, which is flushed oldest first with exponential backoff
 * and jitter (or the server's Retry-After). Log cursors are committed only when the server acknowledged the batch.
 */
export class Outbox {
  private attempt = 0;
  private notBefore = 0;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly options: OutboxOptions;

  constructor(options: OutboxOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.baseMs = options.backoffBaseMs ?? 5_000;
    this.capMs = options.backoffCapMs ?? 300_000;
  }

  /** When the next send may be tried, if the last one failed. */
  get retryAt(): number | undefined {
    return this.attempt > 0 ? this.notBefore : undefined;
  }

  get waiting(): number {
    return this.options.spool.count;
  }

  async submit(batch: Batch): Promise<void> {
    const { spool } = this.options;
    if (spool.count === 0 && this.now() >= this.notBefore) {
      const outcome = await this.options.send(batch.payload);
      if (this.settle(batch, outcome)) return;
    }
    this.spool(batch);
    await this.flush();
  }

  /** Sends spooled batches oldest first until one fails or the backoff says wait; returns how many were settled. */
  async flush(): Promise<number> {
    const { spool, log } = this.options;
    let settled = 0;
    while (this.now() >= this.notBefore) {
      const next = spool.oldest();
      if (!next) break;
      if ("corrupt" in next) {
        log.error({ file: next.id, error: next.corrupt }, "spooled batch is unreadable; dropped");
        spool.remove(next.id);
        this.count("dropped_batches", 1);
        continue;
      }
      const outcome = await this.options.send(next.batch.payload);
      if (!this.settle(next.batch, outcome)) break;
      spool.remove(next.id);
      settled++;
    }
    if (settled > 0 && spool.count === 0)
      log.info({ delivered: settled }, "spool delivered; the server is reachable again");
    return settled;
  }

  /** True when the batch is finished with (acknowledged or refused for good); false when it must be sent again. */
  private settle(batch: Batch, outcome: PushOutcome): boolean {
    const { log, cursors } = this.options;
    if (outcome.kind === "retry") {
      this.attempt += 1;
      const delay = outcome.retryAfterMs ?? retryDelayMs(this.attempt, this.baseMs, this.capMs, this.random);
      this.notBefore = this.now() + delay;
      log.warn(
        { reason: outcome.reason, retry_in_ms: delay, spooled: this.options.spool.count },
        "push failed; will retry",
      );
      return false;
    }
    this.attempt = 0;
    this.notBefore = 0;
    if (outcome.kind === "refused") {
      this.count("refused_batches", 1);
      log.error(
        { reason: outcome.reason, metrics: batch.payload.metrics.length, logs: batch.payload.logs.length },
        "the server refused a batch; it is dropped",
      );
    } else if (outcome.rejected.length > 0 || outcome.logsRejected.length > 0) {
      log.warn(
        { rejected: outcome.rejected.slice(0, 5), logs_rejected: outcome.logsRejected.slice(0, 5) },
        `the server rejected ${outcome.rejected.length} metric and ${outcome.logsRejected.length} log rows of a batch`,
      );
    }
    // A refused batch moves the cursors too: its lines would be refused again, and re-reading them loops forever.
    cursors.set({ ...cursors.get(), ...batch.cursors });
    return true;
  }

  private spool(batch: Batch): void {
    const dropped = this.options.spool.add(batch);
    if (dropped > 0) {
      this.count("dropped_batches", dropped);
      this.options.log.warn({ dropped, spool_bytes: this.options.spool.size }, "spool full; oldest batches dropped");
    }
  }

  private count(key: keyof AgentCounters, n: number): void {
    const counters = this.options.counters;
    counters.set({ ...counters.get(), [key]: counters.get()[key] + n });
  }
}

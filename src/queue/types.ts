import type { Kysely, Transaction } from "kysely";
import type { DB } from "../db/types.js";

export interface JobInfo {
  id: number;
  queue: string;
  attempts: number;
}

export type JobHandler = (payload: unknown, job: JobInfo) => Promise<void>;

export interface DeadJob {
  id: number;
  queue: string;
  payload: unknown;
  attempts: number;
  last_error: string | null;
  created_at: string;
  failed_at: string;
}

export interface QueueDepth {
  queue: string;
  pending: number;
  dead: number;
  /** Seconds the oldest ready job has been waiting; 0 when none waits. */
  lag_seconds: number;
}

/**
 * The work queue every processor is fed from. A job is removed only after its handler returned, i.e. after the
 * handler's own transaction committed; a crash in between runs it again, so handlers are idempotent.
 */
export interface Queue {
  /**
   * Adds a job inside the caller's transaction: it exists if and only if the caller's data does. `weight` is how
   * many items it stands for (default 1), which pendingEstimate counts.
   */
  enqueue(trx: Transaction<DB> | Kysely<DB>, queue: string, payload: unknown, weight?: number): Promise<number>;
  register(queue: string, handler: JobHandler): void;
  start(): void;
  stop(): Promise<void>;
  /** Tells idle workers that new jobs are waiting, so they do not sleep out their poll interval. */
  notify(): void;
  /**
   * Runs jobs in this process until none is ready (CLI one-shots and tests); reports and returns the items done so
   * far (job weights: a batched diff job counts its records).
   */
  drain(onProgress?: (done: number) => void): Promise<number>;
  depth(): Promise<QueueDepth[]>;
  /** Last known number of waiting items (job weights), refreshed by the workers; cheap enough for every request. */
  pendingEstimate(): number;
  listDead(limit: number, offset: number): Promise<DeadJob[]>;
  retryDead(id: number): Promise<boolean>;
}

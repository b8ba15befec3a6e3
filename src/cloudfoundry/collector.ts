import { setTimeout as delay } from "node:timers/promises";
import { retryDelayMs } from "../queue/backoff.js";
import {
  UnknownAfterGuidError,
  type UsageEvent,
  type UsageEventKind,
  type UsageEventPage,
  type UsageEventSource,
} from "./client.js";

/** Where collection resumes: the last event CF listed that the collector moved past, stored or not. */
export interface EventMarker {
  guid: string;
  created_at: string;
}

/** The collector's storage port. */
export interface EventSink {
  /**
   * Stores events (insert-or-ignore by guid) and moves the marker in the SAME transaction; returns how many were new.
   * The marker may name an event that is not among `events` (a bad one, or one skipped after a purge): it must be
   * kept as given, not derived from the stored rows.
   */
  store(source: string, kind: UsageEventKind, events: UsageEvent[], marker: EventMarker | null): Promise<number>;
  marker(source: string, kind: UsageEventKind): Promise<EventMarker | null>;
  /** Gap warnings and skipped bad events. */
  warn(source: string, kind: string, message: string): Promise<void>;
}

export const DEFAULT_FETCH_LIMIT = 50;
export const MAX_FETCH_LIMIT = 100;
export const DEFAULT_RECORD_MIN_AGE_MS = 5 * 60_000;
export const DEFAULT_MAX_PAGES = 10;
export const DEFAULT_SCHEDULE_MS = 60_000;
export const DEFAULT_MIN_WAIT_MS = 3_000;
export const DEFAULT_BACKOFF_BASE_MS = 1_000;

export interface CollectOptions {
  /** The foundation's name; each source has its own markers. */
  source: string;
  kind: UsageEventKind;
  /** Events per request, 1..100. */
  fetchLimit?: number;
  /** Events younger than this (ms) wait for a later cycle: CF lists an event before its transaction has settled. */
  recordMinAge?: number;
  /**
   * Full pages fetched before the cycle yields with `fullPage: true`, so a long backlog is committed in bursts with
   * the scheduler's short pause between them. A resume after a purge ignores it (see collectOnce).
   */
  maxPages?: number;
  now?: Date;
  /** Throws for an entity that must not be stored; the event is skipped with a warning. */
  validate?: (entity: unknown) => void;
  signal?: AbortSignal;
}

export interface CollectResult {
  /** Events the marker moved past: stored, already known, bad, or skipped as older than a purged marker. */
  fetched: number;
  /** Events new to the sink. */
  stored: number;
  skippedBad: number;
  pages: number;
  /** The cycle stopped on a full page with more to come (fetch again soon) rather than on a partial page. */
  fullPage: boolean;
  /** CF had purged the marker's event; collection resumed by time and a gap warning was recorded. */
  gap: boolean;
}

/**
 * One collection cycle for one (source, kind): resumes after the marker, pages until a partial page, and stops at the
 * first event younger than the minimum age so that event and everything after it come again next cycle in order.
 * Each page's new events and the moved marker are stored in one call, so a failure mid-cycle loses nothing.
 *
 * When CF has purged the marker's event it refuses `after_guid` (UnknownAfterGuidError). The cycle then reads CF from
 * its oldest event, skips events created before the marker's `created_at` (they were stored before the purge, and
 * the sink may have pruned them since), records a gap warning and pages on to the end regardless of `maxPages`: the
 * time filter lives only in this cycle, so it has to cover everything CF still holds from before the purge. Events
 * with the marker's own timestamp are offered again; insert-or-ignore drops the ones already stored.
 */
export async function collectOnce(
  client: UsageEventSource,
  sink: EventSink,
  options: CollectOptions,
): Promise<CollectResult> {
  const { source, kind } = options;
  const limit = options.fetchLimit ?? DEFAULT_FETCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FETCH_LIMIT) {
    throw new RangeError(`fetch limit must be an integer from 1 to ${MAX_FETCH_LIMIT}, got ${limit}`);
  }
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const cutoff = (options.now ?? new Date()).getTime() - (options.recordMinAge ?? DEFAULT_RECORD_MIN_AGE_MS);
  const result: CollectResult = { fetched: 0, stored: 0, skippedBad: 0, pages: 0, fullPage: false, gap: false };

  let marker = await sink.marker(source, kind);
  let afterGuid = marker?.guid;
  let resumedAfter: { time: number; created_at: string } | undefined;

  for (;;) {
    let page: UsageEventPage;
    try {
      page = await client.fetchPage(kind, { afterGuid, limit, signal: options.signal });
    } catch (err) {
      if (!(err instanceof UnknownAfterGuidError) || marker === null || result.gap) throw err;
      result.gap = true;
      const time = Date.parse(marker.created_at);
      if (Number.isFinite(time)) resumedAfter = { time, created_at: marker.created_at };
      await sink.warn(
        source,
        kind,
        `CF no longer knows the resume marker ${marker.guid} (created ${marker.created_at}): its events were purged. ` +
          `Collection resumed from CF's oldest event, skipping events created before ${marker.created_at}; ` +
          "events between the marker and the oldest event CF kept may be missing.",
      );
      afterGuid = undefined;
      continue;
    }
    result.pages++;

    const fresh: UsageEvent[] = [];
    const problems: string[] = [];
    let next = marker;
    let cut = false;
    for (const event of page.events) {
      const created = Date.parse(event.created_at);
      if (created > cutoff) {
        cut = true;
        break;
      }
      result.fetched++;
      if (!Number.isFinite(created)) {
        problems.push(`event ${event.guid} skipped: created_at ${JSON.stringify(event.created_at)} is not a time`);
        next = { guid: event.guid, created_at: next?.created_at ?? new Date(0).toISOString() };
        continue;
      }
      if (resumedAfter !== undefined && created < resumedAfter.time) {
        // Keeping the pre-purge time in the marker keeps the window from shrinking if CF purges again.
        next = { guid: event.guid, created_at: resumedAfter.created_at };
        continue;
      }
      next = { guid: event.guid, created_at: event.created_at };
      try {
        options.validate?.(event.entity);
        fresh.push(event);
      } catch (err) {
        problems.push(`event ${event.guid} skipped: ${err instanceof Error ? err.message : String(err)}`);
      }
    }

    // Warnings go first: if storing fails the cycle repeats and warns again, rather than losing a warning.
    for (const problem of problems) await sink.warn(source, kind, problem);
    result.skippedBad += problems.length;
    if (next !== marker && next !== null) {
      result.stored += await sink.store(source, kind, fresh, next);
      marker = next;
      afterGuid = next.guid;
    }

    const full = !cut && page.hasMore && page.events.length >= limit;
    if (!full) return result;
    if (!result.gap && result.pages >= maxPages) {
      result.fullPage = true;
      return result;
    }
  }
}

export interface RunCollectorOptions extends Omit<CollectOptions, "kind" | "now" | "signal"> {
  /** Default both. Each kind runs its own schedule. */
  kinds?: readonly UsageEventKind[];
  /** Wait after a partial or empty cycle, and the cap of the error backoff (ms). */
  scheduleMs?: number;
  /** Wait after a cycle that stopped on a full page (ms). */
  minWaitMs?: number;
  /** First retry delay after an error (ms); doubles per consecutive error up to `scheduleMs`. */
  backoffBaseMs?: number;
  /** Stops the loops; an in-flight request is aborted. */
  signal: AbortSignal;
  now?: () => Date;
  /** Resolves after `ms` or early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  onCycle?: (kind: UsageEventKind, result: CollectResult) => void;
  /** Each failed cycle (UAA, API or sink), with the consecutive failure count and the delay before the next try. */
  onError?: (kind: UsageEventKind, error: unknown, failures: number, delayMs: number) => void;
}

/** Collects one source until `signal` aborts; resolves once every kind's loop has stopped. */
export async function runCollector(
  client: UsageEventSource,
  sink: EventSink,
  options: RunCollectorOptions,
): Promise<void> {
  const { signal } = options;
  const schedule = options.scheduleMs ?? DEFAULT_SCHEDULE_MS;
  const minWait = options.minWaitMs ?? DEFAULT_MIN_WAIT_MS;
  const backoffBase = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const sleep = options.sleep ?? abortableSleep;
  const now = options.now ?? (() => new Date());
  const collect: Omit<CollectOptions, "kind"> = {
    source: options.source,
    signal,
    ...(options.fetchLimit === undefined ? {} : { fetchLimit: options.fetchLimit }),
    ...(options.recordMinAge === undefined ? {} : { recordMinAge: options.recordMinAge }),
    ...(options.maxPages === undefined ? {} : { maxPages: options.maxPages }),
    ...(options.validate === undefined ? {} : { validate: options.validate }),
  };

  const loop = async (kind: UsageEventKind): Promise<void> => {
    let failures = 0;
    while (!signal.aborted) {
      let result: CollectResult | undefined;
      let wait: number;
      try {
        result = await collectOnce(client, sink, { ...collect, kind, now: now() });
        failures = 0;
        wait = result.fullPage ? minWait : schedule;
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        wait = retryDelayMs(failures, backoffBase, schedule, options.random);
        options.onError?.(kind, err, failures, wait);
      }
      if (result) options.onCycle?.(kind, result);
      await sleep(wait, signal);
    }
  };
  await Promise.all((options.kinds ?? (["app", "service"] as const)).map(loop));
}

async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

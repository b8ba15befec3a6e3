import type { AppContext } from "../app/context.js";
import type { Settings } from "../config/schema.js";
import { parseDuration } from "../lib/duration.js";
import { indexEvent } from "./billing.js";
import { type CfCredentials, CloudFoundryClient } from "./client.js";
import { type CollectResult, collectOnce, runCollector } from "./collector.js";
import { normalizeEntity } from "./events.js";
import { cfEventStore } from "./store.js";

type Foundation = Settings["cloudfoundry"]["foundations"][number];
const KINDS = ["app", "service"] as const;

function credentials(f: Foundation): CfCredentials {
  if (f.client_id && f.client_secret !== undefined && !f.username) {
    return { client_id: f.client_id, client_secret: f.client_secret };
  }
  if (f.username && f.password !== undefined) {
    return {
      username: f.username,
      password: f.password,
      ...(f.client_id ? { client_id: f.client_id, client_secret: f.client_secret ?? "" } : {}),
    };
  }
  throw new Error(`cloudfoundry.foundations "${f.name}" needs client_id/client_secret or username/password`);
}

export function clientFor(f: Foundation): CloudFoundryClient {
  return new CloudFoundryClient({
    api: f.api,
    auth: credentials(f),
    skip_tls_verification: f.skip_tls_verification,
    user_agent: f.user_agent,
    api_version: f.api_version,
  });
}

const ms = (value: string) => parseDuration(value) ?? 0;

function record(ctx: AppContext, source: string, kind: string, result: CollectResult): void {
  ctx.metrics.cf.events.inc({ source, kind, result: "stored" }, result.stored);
  if (result.skippedBad > 0) ctx.metrics.cf.events.inc({ source, kind, result: "skipped_bad" }, result.skippedBad);
  if (result.gap) ctx.metrics.cf.gaps.inc({ source, kind });
}

export interface SyncOutcome {
  source: string;
  kind: "app" | "service";
  stored: number;
  fetched: number;
  skipped_bad: number;
  gap: boolean;
}

/**
 * Collects every configured foundation until it is caught up (`cf sync --once`): each (source, kind) runs cycles
 * until one ends on a partial page. The sink stores events and markers exactly as the scheduled collector does.
 */
export async function syncOnce(ctx: AppContext, onProgress?: (outcome: SyncOutcome) => void): Promise<SyncOutcome[]> {
  const sink = cfEventStore(ctx.database.db, indexEvent);
  const outcomes: SyncOutcome[] = [];
  for (const f of ctx.settings.cloudfoundry.foundations) {
    const client = clientFor(f);
    try {
      for (const kind of KINDS) {
        const total: SyncOutcome = { source: f.name, kind, stored: 0, fetched: 0, skipped_bad: 0, gap: false };
        for (;;) {
          const result = await collectOnce(client, sink, {
            source: f.name,
            kind,
            fetchLimit: f.fetch_limit,
            recordMinAge: ms(f.record_min_age),
            validate: (entity) => normalizeEntity(kind, entity),
          });
          record(ctx, f.name, kind, result);
          total.stored += result.stored;
          total.fetched += result.fetched;
          total.skipped_bad += result.skippedBad;
          total.gap ||= result.gap;
          onProgress?.({ ...total });
          if (!result.fullPage) break;
        }
        outcomes.push(total);
      }
    } finally {
      await client.close();
    }
  }
  return outcomes;
}

/** The scheduled collectors of the embedded mode: one loop per foundation and kind, stopped together. */
export function startCollectors(ctx: AppContext): { stop(): Promise<void> } {
  const sink = cfEventStore(ctx.database.db, indexEvent);
  const controller = new AbortController();
  const running = ctx.settings.cloudfoundry.foundations.map((f) => {
    const client = clientFor(f);
    // One loop per kind, so each validates its own entity shape.
    const loops = KINDS.map((kind) =>
      runCollector(client, sink, {
        source: f.name,
        kinds: [kind],
        fetchLimit: f.fetch_limit,
        recordMinAge: ms(f.record_min_age),
        scheduleMs: ms(f.schedule),
        minWaitMs: ms(f.min_wait_time),
        signal: controller.signal,
        validate: (entity) => normalizeEntity(kind, entity),
        onCycle: (k, result) => record(ctx, f.name, k, result),
        onError: (k, error, failures, delayMs) => {
          const errorKind = (error as { kind?: string }).kind ?? "unknown";
          ctx.metrics.cf.errors.inc({ source: f.name, kind: k, error: errorKind });
          ctx.log.warn(
            { source: f.name, kind: k, failures, delayMs, err: (error as Error).message },
            "Cloud Foundry collection failed",
          );
        },
      }),
    );
    return Promise.all(loops).finally(() => client.close());
  });
  return {
    async stop() {
      controller.abort();
      await Promise.all(running);
    },
  };
}

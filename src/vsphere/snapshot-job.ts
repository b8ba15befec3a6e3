import type { Logger } from "pino";
import type { Kysely } from "kysely";
import type { Settings } from "../config/schema.js";
import type { DB } from "../db/types.js";
import type { Metrics } from "../observability/metrics.js";
import { type CollectOptions, type CollectResult, collectInventory } from "./collect/inventory.js";
import { snapshotFilters } from "./filters.js";
import type { ReportWriter } from "./service.js";
import { recordFailedSnapshot, storeSnapshot } from "./snapshots.js";

export interface SnapshotDeps {
  db: Kysely<DB>;
  settings: Settings;
  log: Logger;
  metrics: Metrics;
  /** The vCenter password after decryption (settings hold it encrypted). */
  password: string;
  collect?: (options: CollectOptions) => Promise<CollectResult>;
  sleep?: (ms: number) => Promise<void>;
}

export interface SnapshotOutcome {
  vcenter: string;
  snapshot_time: number;
  status: "success" | "failed";
  rows: number;
  attempts: number;
  error: string | null;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One vCenter's snapshot with vCTP's retry policy: up to `hourly_snapshot_max_retries` retries,
 * `hourly_snapshot_retry_seconds` apart. Every failed attempt counts in vctp_vcenter_connect_failures_total; a run
 * that never succeeds is recorded as failed with its last reason. Rows are stored only from a complete collection.
 */
export async function snapshotVcenter(deps: SnapshotDeps, vcenter: string, at: Date): Promise<SnapshotOutcome> {
  const s = deps.settings.settings;
  const collect = deps.collect ?? collectInventory;
  const sleep = deps.sleep ?? defaultSleep;
  const filters = snapshotFilters(deps.settings);
  const snapshotTime = Math.floor(at.getTime() / 1000);
  const maxAttempts = 1 + s.hourly_snapshot_max_retries;
  let lastError = "";
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const result = await collect({
        url: vcenter,
        username: s.vcenter_username,
        password: deps.password,
        insecure: s.vcenter_insecure,
        pageSize: deps.settings.vsphere.page_size,
        timeoutMs: deps.settings.vsphere.request_timeout_seconds * 1000,
      });
      const rows = result.rows.filter((vm) => filters.keep(vm));
      await storeSnapshot(deps.db, {
        vcenter,
        snapshotTime,
        rows,
        durationMs: result.durationMs,
        roundTrips: result.roundTrips,
        attempts: attempt,
      });
      const m = deps.metrics.vctp;
      m.snapshots.inc();
      m.lastSnapshotUnix.set(snapshotTime);
      m.lastSnapshotRows.set(rows.length);
      m.snapshotDuration.set({ vcenter }, result.durationMs / 1000);
      m.inventorySize.set({ vcenter }, rows.length);
      deps.log.info(
        { vcenter, rows: rows.length, roundTrips: result.roundTrips, ms: Math.round(result.durationMs) },
        "vCenter snapshot stored",
      );
      return {
        vcenter,
        snapshot_time: snapshotTime,
        status: "success",
        rows: rows.length,
        attempts: attempt,
        error: null,
      };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      deps.metrics.vctp.connectFailures.inc({ vcenter });
      deps.log.warn({ vcenter, attempt, maxAttempts, err: lastError }, "vCenter snapshot attempt failed");
      await recordFailedSnapshot(deps.db, vcenter, snapshotTime, lastError, attempt);
      if (attempt < maxAttempts) await sleep(s.hourly_snapshot_retry_seconds * 1000);
    }
  }
  deps.metrics.vctp.snapshotsFailed.inc();
  return { vcenter, snapshot_time: snapshotTime, status: "failed", rows: 0, attempts: maxAttempts, error: lastError };
}

/** Snapshots every configured vCenter, at most `hourly_snapshot_concurrency` at a time (0 = all at once). */
export async function snapshotAll(
  deps: SnapshotDeps,
  at: Date,
  onDone?: (outcome: SnapshotOutcome) => void,
  writeReports?: ReportWriter,
): Promise<SnapshotOutcome[]> {
  const addresses = deps.settings.settings.vcenter_addresses;
  const limit = deps.settings.settings.hourly_snapshot_concurrency || addresses.length;
  const outcomes: SnapshotOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < addresses.length) {
      const address = addresses[next++] as string;
      const outcome = await snapshotVcenter(deps, address, at);
      outcomes.push(outcome);
      onDone?.(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, addresses.length) }, worker));
  if (writeReports && outcomes.some((o) => o.status === "success")) {
    await writeReports("hourly", String(Math.floor(at.getTime() / 1000)));
  }
  return outcomes.sort((a, b) => a.vcenter.localeCompare(b.vcenter));
}

import { Cron } from "croner";
import type { AppContext } from "./context.js";
import { pruneRecords } from "../inventory/retention-job.js";
import { retentionTiers } from "../inventory/settings.js";
import { syncLinkFailed, updateStatuses } from "../systems/heartbeat.js";
import { maintainTelemetry } from "../telemetry/maintenance.js";
import { reportWriter } from "../vsphere/reports.js";
import { cleanupSnapshots, runDailyAggregation, runMonthlyAggregation } from "../vsphere/service.js";

/** Periodic jobs of the embedded mode. Each run is skipped while the previous one is still going (protect). */
export function startSchedules(ctx: AppContext): { stop(): Promise<void> } {
  const inv = ctx.settings.inventory;
  const heartbeat = { timeoutMinutes: inv.heartbeat_timeout_minutes, linkFailedTtlMinutes: inv.linkfailed_ttl_minutes };
  const guarded = (name: string, fn: () => Promise<unknown>) => async () => {
    try {
      await fn();
    } catch (err) {
      ctx.log.error({ err, job: name }, "scheduled job failed");
    }
  };
  const jobs = [
    new Cron(
      "* * * * * *",
      { protect: true, interval: inv.heartbeat_check_seconds, name: "heartbeat-status" },
      guarded("heartbeat-status", () => updateStatuses(ctx.database.db, heartbeat, new Date())),
    ),
    new Cron(
      "* * * * * *",
      { protect: true, interval: Math.round(inv.linkfailed_refresh_minutes * 60), name: "linkfailed" },
      guarded("linkfailed", async () => {
        await updateStatuses(ctx.database.db, heartbeat, new Date());
        await syncLinkFailed(ctx.database.db, heartbeat, new Date());
      }),
    ),
    new Cron(
      inv.retention_cron,
      { protect: true, name: "inventory-retention" },
      guarded("inventory-retention", async () => {
        const result = await pruneRecords(ctx.database.db, {
          now: new Date(),
          tiers: retentionTiers(ctx.settings),
          batchSize: inv.retention_batch_size,
          dryRun: false,
        });
        ctx.log.info({ kept: result.kept.length, deleted: result.deleted.length }, "inventory retention ran");
      }),
    ),
    new Cron(
      ctx.settings.telemetry.retention_cron,
      { protect: true, name: "telemetry-maintenance" },
      guarded("telemetry-maintenance", async () => {
        const result = await maintainTelemetry(ctx.database.db, ctx.settings.telemetry, Date.now());
        ctx.log.info(result, "telemetry rollups and retention ran");
      }),
    ),
    ...vsphereSchedules(ctx, guarded),
  ];
  // The HTTP clients of vCenter and Cloud Foundry (undici) load only where a source is configured: a server without
  // them stays about 20 MB smaller.
  const collectors =
    ctx.settings.cloudfoundry.foundations.length === 0
      ? undefined
      : import("../cloudfoundry/sync.js")
          .then((m) => m.startCollectors(ctx))
          .catch((err: unknown) => {
            ctx.log.error({ err }, "Cloud Foundry collectors could not start");
            return undefined;
          });
  return {
    async stop() {
      for (const job of jobs) job.stop();
      await (await collectors)?.stop();
    },
  };
}

/**
 * vCTP's cadences: a snapshot of every vCenter each vcenter_inventory_snapshot_seconds, the daily rollup of the
 * previous UTC day each vcenter_inventory_aggregate_seconds (and the month's rollup once its last day is in), and
 * retention on snapshot_cleanup_cron.
 */
function vsphereSchedules(
  ctx: AppContext,
  guarded: (name: string, fn: () => Promise<unknown>) => () => Promise<void>,
): Cron[] {
  const s = ctx.settings.settings;
  const jobs: Cron[] = [];
  const writeReports = reportWriter(ctx);
  if (s.vcenter_addresses.length > 0 && s.vcenter_inventory_snapshot_seconds > 0) {
    jobs.push(
      new Cron(
        "* * * * * *",
        { protect: true, interval: s.vcenter_inventory_snapshot_seconds, name: "vsphere-snapshot" },
        guarded("vsphere-snapshot", async () =>
          (await import("../vsphere/snapshot-job.js")).snapshotAll(
            {
              db: ctx.database.db,
              settings: ctx.settings,
              log: ctx.log,
              metrics: ctx.metrics,
              password: ctx.vcenterPassword,
            },
            new Date(),
            undefined,
            writeReports,
          ),
        ),
      ),
    );
  }
  // Without a vCenter there is nothing new to roll up; imported history is aggregated with the CLI instead.
  if (s.vcenter_addresses.length > 0 && s.vcenter_inventory_aggregate_seconds > 0) {
    jobs.push(
      new Cron(
        "* * * * * *",
        { protect: true, interval: s.vcenter_inventory_aggregate_seconds, name: "vsphere-aggregate" },
        guarded("vsphere-aggregate", async () => {
          const yesterday = new Date(Date.now() - 86_400_000);
          const day = yesterday.toISOString().slice(0, 10);
          await runDailyAggregation(ctx, day, writeReports);
          const tomorrowOfYesterday = new Date(yesterday.getTime() + 86_400_000);
          if (tomorrowOfYesterday.getUTCMonth() !== yesterday.getUTCMonth()) {
            await runMonthlyAggregation(ctx, day.slice(0, 7), writeReports);
          }
        }),
      ),
    );
  }
  jobs.push(
    new Cron(
      s.snapshot_cleanup_cron,
      { protect: true, name: "vsphere-cleanup" },
      guarded("vsphere-cleanup", () => cleanupSnapshots(ctx)),
    ),
  );
  return jobs;
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Queue } from "../queue/types.js";

/** One registry per running app, so several apps in one test process never share counters. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool rejects them);
  // nodejs_active_resources carries the same information under a valid name.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(name);
  }
  const ingestDocuments = new Counter({
    name: "fleetledger_ingest_documents_total",
    help: "Inventory documents received, by result (accepted, duplicate, rejected, throttled).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const ingestBytes = new Counter({
    name: "fleetledger_ingest_bytes_total",
    help: "Canonical JSON bytes of accepted inventory documents.",
    registers: [registry],
  });
  const ingestDuration = new Histogram({
    name: "fleetledger_ingest_duration_seconds",
    help: "Time from request body parsed to durable commit for inventory documents.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const heartbeats = new Counter({
    name: "fleetledger_ingest_heartbeats_total",
    help: "Heartbeats received.",
    registers: [registry],
  });
  const queueJobs = new Counter({
    name: "fleetledger_queue_jobs_total",
    help: "Jobs finished, by queue and result (completed, retried, dead).",
    labelNames: ["queue", "result"] as const,
    registers: [registry],
  });
  const queueJobDuration = new Histogram({
    name: "fleetledger_queue_job_duration_seconds",
    help: "Handler run time per job.",
    labelNames: ["queue"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  let watched: Queue | undefined;
  const queueLag = new Gauge({
    name: "fleetledger_queue_lag_seconds",
    help: "Age of the oldest ready job per queue.",
    labelNames: ["queue"] as const,
    registers: [registry],
  });
  // Depth is read from the queue at scrape time so the gauges are never stale.
  new Gauge({
    name: "fleetledger_queue_depth",
    help: "Jobs in the queue, by queue and state (pending, dead).",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      queueLag.reset();
      if (!watched) return;
      for (const d of await watched.depth()) {
        this.set({ queue: d.queue, state: "pending" }, d.pending);
        this.set({ queue: d.queue, state: "dead" }, d.dead);
        queueLag.set({ queue: d.queue }, d.lag_seconds);
      }
    },
  });

  // vCTP's metric names, kept exactly so existing dashboards and alerts keep working.
  const vctp = {
    snapshots: new Counter({
      name: "vctp_hourly_snapshots_total",
      help: "vCenter snapshots completed.",
      registers: [registry],
    }),
    snapshotsFailed: new Counter({
      name: "vctp_hourly_snapshots_failed_total",
      help: "vCenter snapshots that failed after all retries.",
      registers: [registry],
    }),
    lastSnapshotUnix: new Gauge({
      name: "vctp_hourly_snapshot_last_unix",
      help: "Unix time of the last successful snapshot.",
      registers: [registry],
    }),
    lastSnapshotRows: new Gauge({
      name: "vctp_hourly_snapshot_last_rows",
      help: "VM rows in the last successful snapshot.",
      registers: [registry],
    }),
    daily: new Counter({
      name: "vctp_daily_aggregations_total",
      help: "Daily aggregations run.",
      registers: [registry],
    }),
    dailyFailed: new Counter({
      name: "vctp_daily_aggregations_failed_total",
      help: "Daily aggregations that failed.",
      registers: [registry],
    }),
    dailyDuration: new Gauge({
      name: "vctp_daily_aggregation_duration_seconds",
      help: "Duration of the last daily aggregation.",
      registers: [registry],
    }),
    monthly: new Counter({
      name: "vctp_monthly_aggregations_total",
      help: "Monthly aggregations run.",
      registers: [registry],
    }),
    monthlyFailed: new Counter({
      name: "vctp_monthly_aggregations_failed_total",
      help: "Monthly aggregations that failed.",
      registers: [registry],
    }),
    monthlyDuration: new Gauge({
      name: "vctp_monthly_aggregation_duration_seconds",
      help: "Duration of the last monthly aggregation.",
      registers: [registry],
    }),
    reportsAvailable: new Gauge({
      name: "vctp_reports_available",
      help: "Report files in reports_dir.",
      registers: [registry],
    }),
    connectFailures: new Counter({
      name: "vctp_vcenter_connect_failures_total",
      help: "Failed vCenter snapshot attempts, by vCenter.",
      labelNames: ["vcenter"] as const,
      registers: [registry],
    }),
    snapshotDuration: new Gauge({
      name: "vctp_vcenter_snapshot_duration_seconds",
      help: "Duration of the last snapshot, by vCenter.",
      labelNames: ["vcenter"] as const,
      registers: [registry],
    }),
    inventorySize: new Gauge({
      name: "vctp_vcenter_inventory_size",
      help: "VMs in the last snapshot, by vCenter.",
      labelNames: ["vcenter"] as const,
      registers: [registry],
    }),
  };

  const cf = {
    events: new Counter({
      name: "fleetledger_cf_usage_events_total",
      help: "Cloud Foundry usage events collected, by source, kind and result (stored, skipped_bad).",
      labelNames: ["source", "kind", "result"] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: "fleetledger_cf_collect_errors_total",
      help: "Failed Cloud Foundry collection cycles, by source, kind and error kind.",
      labelNames: ["source", "kind", "error"] as const,
      registers: [registry],
    }),
    gaps: new Counter({
      name: "fleetledger_cf_gaps_total",
      help: "Resumes by time after Cloud Foundry purged the marker's event.",
      labelNames: ["source", "kind"] as const,
      registers: [registry],
    }),
  };

  const telemetry = {
    batches: new Counter({
      name: "fleetledger_telemetry_batches_total",
      help: "POST /api/metrics requests, by result (ok, unauthorized, invalid, too_large, error).",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    samples: new Counter({
      name: "fleetledger_telemetry_samples_total",
      help: "Metric rows received, by result (inserted, rejected).",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    logLines: new Counter({
      name: "fleetledger_telemetry_log_lines_total",
      help: "Log rows received, by result (inserted, rejected).",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    seriesCreated: new Counter({
      name: "fleetledger_telemetry_series_created_total",
      help: "Metric series created.",
      registers: [registry],
    }),
    ingestDuration: new Histogram({
      name: "fleetledger_telemetry_ingest_duration_seconds",
      help: "Time from a metric batch parsed to its durable commit.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };

  return {
    registry,
    vctp,
    cf,
    telemetry,
    ingestDocuments,
    ingestBytes,
    ingestDuration,
    heartbeats,
    queueJobs,
    queueJobDuration,
    watchQueue(queue: Queue) {
      watched = queue;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

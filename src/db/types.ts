import type { Generated } from "kysely";

// Times are ISO-8601 UTC strings with millisecond precision (Date#toISOString): they sort as text on both dialects.
// Booleans are 0/1 integers because SQLite has no boolean type.

export interface OrganizationsTable {
  id: string;
  name: string;
  created_at: string;
}

export type SystemStatus = "unknown" | "active" | "inactive";

export interface SystemsTable {
  id: string;
  org_id: string;
  name: string;
  system_key: string;
  secret_hash: string;
  status: SystemStatus;
  created_at: string;
  status_changed_at: string;
  last_heartbeat_at: string | null;
  last_inventory_at: string | null;
}

/** `enroll` tokens only register agents (POST /api/clients/register); they open nothing else. */
export type Role = "admin" | "viewer" | "enroll";

export interface ApiTokensTable {
  id: string;
  name: string;
  role: Role;
  secret_hash: string;
  created_at: string;
  org_scope: string | null;
}

export interface InventoryRecordsTable {
  id: Generated<number>;
  system_id: string;
  received_at: string;
  data_hash: string;
  data_size: number;
  processed_at: string | null;
  has_changes: number;
  change_count: number;
}

/** The canonical JSON of a record's document, apart from the record row so that row stays small. */
export interface InventoryDocumentsTable {
  record_id: number;
  data: string;
}

export interface InventoryDiffsTable {
  id: Generated<number>;
  system_id: string;
  record_id: number;
  previous_record_id: number;
  field_path: string;
  change_type: string;
  previous_value: string | null;
  current_value: string | null;
  category: string;
  severity: string;
  significant: number;
  created_at: string;
}

export interface AlertsTable {
  id: Generated<number>;
  fingerprint: string;
  system_id: string | null;
  labels: string;
  annotations: string;
  starts_at: string;
  ends_at: string;
  updated_at: string;
}

export type JobState = "pending" | "dead";

export interface JobsTable {
  id: Generated<number>;
  queue: string;
  payload: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_at: string;
  locked_until: string | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: string;
  /** Items the job stands for (records of an ingest batch); back-pressure counts these. */
  weight: Generated<number>;
}

export interface VsphereSnapshotsTable {
  id: Generated<number>;
  vcenter: string;
  snapshot_time: number;
  status: "success" | "failed" | "running";
  rows: number;
  duration_ms: number;
  round_trips: number;
  attempts: number;
  error: string | null;
  created_at: string;
}

interface VmIdentityColumns {
  vcenter: string;
  vm_id: string;
  vm_uuid: string;
  name: string;
  resource_pool: string;
  datacenter: string;
  cluster: string;
  folder: string;
  creation_time: number;
  deletion_time: number;
}

export interface VmSamplesTable extends VmIdentityColumns {
  snapshot_time: number;
  instance_uuid: string;
  provisioned_disk: number;
  vcpu_count: number;
  ram_gb: number;
  is_template: number;
  powered_on: number;
  srm_placeholder: number;
}

interface VmAggregateColumns extends VmIdentityColumns {
  snapshot_time: number;
  samples_present: number;
  total_samples: number;
  avg_is_present: number;
  avg_vcpu_count: number;
  avg_ram_gb: number;
  avg_provisioned_disk: number;
  pool_tin_pct: number;
  pool_bronze_pct: number;
  pool_silver_pct: number;
  pool_gold_pct: number;
  tin: number;
  bronze: number;
  silver: number;
  gold: number;
}

export interface VmDailyRollupTable extends VmAggregateColumns {
  day: string;
}

export interface VmMonthlyRollupTable extends VmAggregateColumns {
  month: string;
}

interface TotalsColumns {
  vcenter: string;
  vm_count: number;
  vcpus: number;
  ram_gb: number;
  provisioned_disk: number;
  tin: number;
  bronze: number;
  silver: number;
  gold: number;
}

export interface VcenterAggregateTotalsTable extends TotalsColumns {
  kind: "hourly" | "daily" | "monthly";
  period_start: number;
}

export interface VcenterLatestTotalsTable extends TotalsColumns {
  snapshot_time: number;
}

export interface CfUsageEventsTable {
  id: Generated<number>;
  source: string;
  kind: "app" | "service";
  guid: string;
  created_at: string;
  received_at: string;
  org_guid: string;
  resource_guid: string;
  entity: string;
  /** JSON of the NormalizedEntity; null for events stored before migration 005 and for unreadable entities. */
  normalized: string | null;
  /** What the interval builder reads (migration 010, cloudfoundry/event-columns.ts); null only while migrating. */
  transition: "start" | "stop" | "none" | null;
  resource_type: "app" | "task" | "staging" | "service" | null;
  resource_name: string | null;
  plan_guid: string | null;
  plan_name: string | null;
  org_name: string | null;
  space_guid: string | null;
  space_name: string | null;
  instance_count: number | null;
  memory_in_mb: number | null;
}

export interface CfMarkersTable {
  source: string;
  kind: "app" | "service";
  guid: string;
  created_at: string;
  updated_at: string;
}

export interface CfWarningsTable {
  id: Generated<number>;
  source: string;
  kind: string;
  message: string;
  created_at: string;
}

export interface BillRevisionsTable {
  month: string;
  org_guid: string;
  revision: number;
  ex_vat: string;
  inc_vat: string;
  last_event_id: number;
  created_at: string;
}

export interface AgentClientsTable {
  system_id: string;
  hostname: string;
  hw_hash: string | null;
  machine_id: string | null;
  agent_version: string | null;
  registered_at: string;
  last_seen_at: string | null;
}

export interface MetricSeriesTable {
  id: Generated<number>;
  system_id: string;
  metric_name: string;
  /** Canonical JSON of the label set, keys sorted; "{}" when there are none. */
  labels: string;
  created_at: string;
}

/** Times of points and log lines are unix milliseconds. */
export interface MetricPointsTable {
  series_id: number;
  ts: number;
  value: number;
}

export interface MetricRollupsTable {
  series_id: number;
  /** Bucket width in seconds: 300 or 3600. */
  resolution: number;
  /** Bucket start, unix milliseconds. */
  bucket: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  last_ts: number;
}

export interface LogEntriesTable {
  id: Generated<number>;
  system_id: string;
  source: string;
  ts: number;
  severity: string | null;
  content: string;
  received_at: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  system_id: string | null;
  /** JSON of what was asked. */
  detail: string;
  outcome: "ok" | "error" | "timeout" | "refused";
  /** JSON of the answer, or the error text. */
  result: string | null;
}

export interface DB {
  organizations: OrganizationsTable;
  systems: SystemsTable;
  api_tokens: ApiTokensTable;
  inventory_records: InventoryRecordsTable;
  inventory_documents: InventoryDocumentsTable;
  inventory_diffs: InventoryDiffsTable;
  alerts: AlertsTable;
  jobs: JobsTable;
  vsphere_snapshots: VsphereSnapshotsTable;
  vm_samples: VmSamplesTable;
  vm_daily_rollup: VmDailyRollupTable;
  vm_monthly_rollup: VmMonthlyRollupTable;
  vcenter_aggregate_totals: VcenterAggregateTotalsTable;
  vcenter_latest_totals: VcenterLatestTotalsTable;
  cf_usage_events: CfUsageEventsTable;
  cf_markers: CfMarkersTable;
  cf_warnings: CfWarningsTable;
  bill_revisions: BillRevisionsTable;
  agent_clients: AgentClientsTable;
  metric_series: MetricSeriesTable;
  metric_points: MetricPointsTable;
  metric_rollups: MetricRollupsTable;
  log_entries: LogEntriesTable;
  audit_log: AuditLogTable;
}

import Type, { type Static } from "typebox";

// Every object is closed (additionalProperties: false) so a misspelt key stops start-up instead of being ignored.
const Obj = <T extends Type.TProperties>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, default: {}, ...(description ? { description } : {}) });

const Level = Type.Union([Type.Literal("critical"), Type.Literal("high"), Type.Literal("medium"), Type.Literal("low")]);

export const CategoryRuleSchema = Type.Object(
  { name: Type.String({ minLength: 1 }), patterns: Type.Array(Type.String()) },
  { additionalProperties: false },
);

export const SeverityRuleSchema = Type.Object(
  {
    level: Level,
    create: Type.Optional(Type.Array(Type.String())),
    update: Type.Optional(Type.Array(Type.String())),
    delete: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const RetentionTierSchema = Type.Object(
  {
    max_age_days: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()]),
    keep: Type.Union([
      Type.Literal("all"),
      Type.Literal("day"),
      Type.Literal("week"),
      Type.Literal("month"),
      Type.Literal("quarter"),
    ]),
  },
  { additionalProperties: false },
);

const Patterns = (description: string) => Type.Array(Type.String(), { default: [], description });
const Money = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: "^[0-9]+(\\.[0-9]+)?$" })]);

export const TierRatesSchema = Type.Object(
  {
    vcpu_hour: Money,
    ram_gb_hour: Money,
    disk_gb_month: Money,
  },
  { additionalProperties: false },
);

/**
 * vCTP's settings, under the same top-level `settings:` key and with the same names, so a vctp.yml block can be
 * pasted in. Keys that overlap Fleetledger's own (log, database, bind) override them when set.
 */
const VctpSettings = Obj(
  {
    log_level: Type.String({ default: "", description: "vCTP alias of log.level (empty: use log.level)." }),
    log_output: Type.Union([Type.Literal("text"), Type.Literal("json")], {
      default: "json",
      description: "Log format; Fleetledger always writes JSON lines (pino), `text` is accepted for compatibility.",
    }),
    database_driver: Type.Union([Type.Literal("sqlite"), Type.Literal("postgres")], {
      default: "sqlite",
      description: "vCTP alias; the driver follows database_url / database.url.",
    }),
    enable_experimental_postgres: Type.Boolean({
      default: false,
      description: "Accepted for compatibility; PostgreSQL is fully supported without it.",
    }),
    database_url: Type.String({ default: "", description: "vCTP alias of database.url (empty: use database.url)." }),
    bind_ip: Type.String({ default: "", description: "vCTP alias of server.host (empty: use server.host)." }),
    bind_port: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 65535,
      description: "vCTP alias of server.port (0: use server.port).",
    }),
    bind_disable_tls: Type.Boolean({
      default: true,
      description: "Serve plain HTTP. Set false with tls_cert_filename and tls_key_filename to serve HTTPS.",
    }),
    tls_cert_filename: Type.String({ default: "", description: "PEM certificate for HTTPS." }),
    tls_key_filename: Type.String({ default: "", description: "PEM private key for HTTPS." }),
    encryption_key: Type.String({
      default: "",
      description: "Key material for encrypting vcenter_password; empty derives a key from this host's identity.",
    }),
    vcenter_username: Type.String({ default: "", description: "vCenter user name." }),
    vcenter_password: Type.String({
      default: "",
      description: "vCenter password; plaintext (> 2 chars) is encrypted in place as enc:v1: on start.",
    }),
    vcenter_insecure: Type.Boolean({ default: false, description: "Skip TLS certificate verification of vCenter." }),
    enable_legacy_api: Type.Boolean({
      default: false,
      description: "Re-enable the deprecated /api/event/vm/* and /api/cleanup/* endpoints (else 410 Gone).",
    }),
    vcenter_event_polling_seconds: Type.Integer({ default: 0, description: "Deprecated and ignored." }),
    vcenter_inventory_polling_seconds: Type.Integer({ default: 0, description: "Deprecated and ignored." }),
    vcenter_inventory_snapshot_seconds: Type.Integer({
      default: 3600,
      minimum: 0,
      description: "Snapshot cadence in seconds (0 disables scheduled snapshots).",
    }),
    vcenter_inventory_aggregate_seconds: Type.Integer({
      default: 86400,
      minimum: 0,
      description: "Daily aggregation cadence in seconds while a vCenter is configured (0 disables it).",
    }),
    vcenter_addresses: Type.Array(Type.String(), { default: [], description: "vCenter SDK URLs (https://host/sdk)." }),
    hourly_snapshot_concurrency: Type.Integer({
      default: 0,
      minimum: 0,
      description: "vCenters snapshotted at the same time (0 = all at once).",
    }),
    hourly_snapshot_max_age_days: Type.Integer({ default: 60, minimum: 1, description: "Samples kept this long." }),
    daily_snapshot_max_age_months: Type.Integer({ default: 12, minimum: 1, description: "Daily rows kept this long." }),
    hourly_index_max_age_days: Type.Integer({
      default: -1,
      minimum: -1,
      description:
        "vCTP per-table index trimming; samples live in one indexed table here, so this is accepted and unused.",
    }),
    snapshot_cleanup_cron: Type.String({ default: "30 2 * * *", description: "When snapshot retention runs (cron)." }),
    reports_dir: Type.String({ default: "", description: "Folder for XLSX/CSV reports (empty: <data_dir>/reports)." }),
    hourly_snapshot_retry_seconds: Type.Integer({
      default: 300,
      minimum: 1,
      description: "Wait before retrying a failed snapshot.",
    }),
    hourly_snapshot_max_retries: Type.Integer({ default: 3, minimum: 0, description: "Retries per vCenter snapshot." }),
    tenants_to_filter: Patterns("Tenant name patterns (regular expressions) left out of rollups and chargeback."),
    node_charge_clusters: Patterns("Cluster name patterns charged per node: their VMs are listed but not charged."),
    srm_activeactive_vms: Patterns("VM name patterns whose SRM placeholders count as running VMs."),
  },
  "vCTP-compatible settings (see docs/vsphere.md).",
);

const Duration = (fallback: string, description: string) =>
  Type.String({
    default: fallback,
    pattern: "^(0|(\\d+(\\.\\d+)?(ms|s|m|h))+)$",
    description: `${description} Go-style duration.`,
  });

const FoundationSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: "^[A-Za-z0-9_.-]+$" }),
    api: Type.String({ minLength: 1 }),
    client_id: Type.Optional(Type.String()),
    client_secret: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    skip_tls_verification: Type.Boolean({ default: false }),
    user_agent: Type.String({ default: "fleetledger" }),
    api_version: Type.Union([Type.Literal("v3"), Type.Literal("v2")], { default: "v3" }),
    schedule: Duration("1m", "Wait after a partial page."),
    min_wait_time: Duration("3s", "Wait after a full page."),
    fetch_limit: Type.Integer({ default: 50, minimum: 1, maximum: 100 }),
    record_min_age: Duration("5m", "Events younger than this wait for the next cycle."),
  },
  { additionalProperties: false },
);

const PricingPlanSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    plan_guid: Type.String({ minLength: 1 }),
    valid_from: Type.String({ pattern: "^\\d{4}-\\d{2}-01$" }),
    memory_in_mb: Type.Optional(Type.Integer({ minimum: 0 })),
    storage_in_mb: Type.Optional(Type.Integer({ minimum: 0 })),
    number_of_nodes: Type.Optional(Type.Integer({ minimum: 0 })),
    components: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          formula: Type.String({ minLength: 1 }),
          currency_code: Type.String({ minLength: 3, maxLength: 3 }),
          vat_code: Type.String({ minLength: 1 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);

const RateSchema = Type.Object(
  {
    code: Type.String({ minLength: 1 }),
    valid_from: Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$" }),
    rate: Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: "^[0-9]+(\\.[0-9]+)?$" })]),
  },
  { additionalProperties: false },
);

export const SettingsSchema = Obj({
  data_dir: Type.String({ default: "./data", description: "Folder for the SQLite database and other files." }),
  server: Obj({
    host: Type.String({ default: "0.0.0.0", description: "Address the HTTP server binds to." }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: "HTTP port." }),
    body_limit_bytes: Type.Integer({
      default: 10 * 1024 * 1024,
      minimum: 1024,
      description: "Largest accepted request body; larger bodies get 413.",
    }),
    worker: Type.Boolean({ default: true, description: "Run queue workers and schedules inside the server process." }),
  }),
  database: Obj({
    url: Type.String({
      default: "",
      description:
        "sqlite:PATH or postgres://… . Empty means sqlite:<data_dir>/fleetledger.db (embedded mode, nothing else to run).",
    }),
    pool_size: Type.Integer({ default: 10, minimum: 1, description: "PostgreSQL connection pool size." }),
  }),
  log: Obj({
    level: Type.Union(
      [
        Type.Literal("fatal"),
        Type.Literal("error"),
        Type.Literal("warn"),
        Type.Literal("info"),
        Type.Literal("debug"),
        Type.Literal("trace"),
        Type.Literal("silent"),
      ],
      { default: "info", description: "pino log level." },
    ),
  }),
  queue: Obj({
    concurrency: Type.Integer({ default: 4, minimum: 1, description: "Jobs a worker runs at the same time." }),
    batch_size: Type.Integer({ default: 64, minimum: 1, description: "Jobs claimed per poll." }),
    poll_interval_ms: Type.Integer({ default: 250, minimum: 10, description: "Idle poll interval." }),
    max_attempts: Type.Integer({ default: 5, minimum: 1, description: "Attempts before a job becomes a dead letter." }),
    backoff_base_ms: Type.Integer({ default: 1000, minimum: 1, description: "Backoff is min(cap, base·2^attempt)." }),
    backoff_cap_ms: Type.Integer({ default: 300_000, minimum: 1, description: "Upper bound of one retry delay." }),
    lease_seconds: Type.Integer({
      default: 30,
      minimum: 1,
      description: "A claimed job whose worker died becomes claimable again after this; running jobs renew it.",
    }),
    max_pending: Type.Integer({
      default: 100_000,
      minimum: 1,
      description: "Ingest answers 503 with Retry-After while more documents than this wait to be diffed.",
    }),
  }),
  auth: Obj({
    credential_cache_seconds: Type.Integer({
      default: 300,
      minimum: 0,
      description: "How long a verified credential is remembered, sparing the scrypt cost per request.",
    }),
  }),
  web: Obj({
    require_login: Type.Boolean({
      default: true,
      description: "Ask for an API token before showing the dashboard. Turn off only behind your own auth proxy.",
    }),
  }),
  settings: VctpSettings,
  vsphere: Obj({
    page_size: Type.Integer({
      default: 1000,
      minimum: 1,
      maximum: 10000,
      description: "VMs per RetrievePropertiesEx page.",
    }),
    request_timeout_seconds: Type.Integer({ default: 60, minimum: 1, description: "Timeout of one SOAP request." }),
    monthly_source: Type.Union([Type.Literal("daily"), Type.Literal("samples")], {
      default: "daily",
      description: "Monthly rollups from daily rows (vCTP default) or straight from the hourly samples.",
    }),
    tenant_from: Type.Union([Type.Literal("folder"), Type.Literal("resource_pool")], {
      default: "folder",
      description: "Where a VM's tenant comes from: the first folder under the datacenter, or the resource pool.",
    }),
  }),
  cloudfoundry: Obj({
    foundations: Type.Array(FoundationSchema, {
      default: [],
      description: "Cloud Foundry foundations to collect usage events from; each keeps its own resume marker.",
    }),
    excluded_spaces: Type.Array(Type.String(), {
      default: ["^(SMOKE|ACC|CATS|PERF)-"],
      description: "Space name patterns (regular expressions) whose usage is not billed.",
    }),
    staging_max_duration: Duration(
      "1h",
      "A staging start whose stop has not come within this long is dropped (not billed).",
    ),
  }),
  billing: Obj({
    currency: Type.String({ default: "GBP", minLength: 3, maxLength: 3, description: "Currency of all charges." }),
    ceil_scope: Type.Union([Type.Literal("slice"), Type.Literal("interval")], {
      default: "slice",
      description:
        "Where ceil() in a formula applies: to each month slice of an interval (paas-billing) or to the whole interval.",
    }),
    bill_workers: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 64,
      description:
        "Worker threads that build a large bill (over 100 organizations) in parallel; 0 uses one per CPU core, 1 none.",
    }),
    pricing_plans: Type.Array(PricingPlanSchema, {
      default: [],
      description: "paas-billing pricing plans (see docs/billing.md).",
    }),
    vat_rates: Type.Array(RateSchema, { default: [], description: "VAT rates {code, valid_from, rate}." }),
    currency_rates: Type.Array(RateSchema, { default: [], description: "Currency rates {code, valid_from, rate}." }),
    rate_card: Type.Optional(
      Type.Record(
        Type.Union([Type.Literal("Tin"), Type.Literal("Bronze"), Type.Literal("Silver"), Type.Literal("Gold")]),
        TierRatesSchema,
        {
          description: "Price per tier: vcpu_hour, ram_gb_hour, disk_gb_month (exact decimals).",
        },
      ),
    ),
  }),
  telemetry: Obj({
    metrics_days: Type.Number({
      default: 30,
      exclusiveMinimum: 0,
      description: "Raw metric points older than this are dropped (after they were rolled up into 5 min and 1 h).",
    }),
    rollup_5m_days: Type.Number({
      default: 90,
      exclusiveMinimum: 0,
      description: "How long 5-minute rollups are kept.",
    }),
    rollup_1h_days: Type.Number({
      default: 400,
      exclusiveMinimum: 0,
      description: "How long 1-hour rollups are kept.",
    }),
    logs_days: Type.Number({ default: 7, exclusiveMinimum: 0, description: "Log lines older than this are dropped." }),
    retention_cron: Type.String({
      default: "*/5 * * * *",
      description: "When metric rollups and metric/log retention run (cron).",
    }),
    max_future_seconds: Type.Integer({
      default: 300,
      minimum: 0,
      description: "A metric or log row stamped further than this in the future is rejected (that row only).",
    }),
    max_series_per_system: Type.Integer({
      default: 10_000,
      minimum: 1,
      description: "Distinct (metric, labels) series one system may create; rows that would exceed it are refused.",
    }),
    writer_thread: Type.Boolean({
      default: true,
      description:
        "On SQLite, write metric batches on their own thread so inserts and HTTP handling use two cores (PostgreSQL always writes in-process).",
    }),
    max_rows_per_batch: Type.Integer({
      default: 50_000,
      minimum: 1,
      description: "Metric plus log rows one POST /api/metrics may carry; larger batches get 413.",
    }),
    online_minutes: Type.Number({
      default: 5,
      exclusiveMinimum: 0,
      description: "A host is shown online when its agent sent data within this long.",
    }),
    command_timeout_seconds: Type.Number({
      default: 30,
      exclusiveMinimum: 0,
      maximum: 600,
      description: "Default time POST /api/commands waits for the agent's answer.",
    }),
    default_org: Type.String({
      default: "default",
      minLength: 1,
      description: "Organization (created if missing) that agents register into when they name none.",
    }),
  }),
  inventory: Obj({
    max_document_depth: Type.Integer({
      default: 64,
      minimum: 2,
      description: "Deeper documents are rejected with 400.",
    }),
    ingest_batch_size: Type.Integer({
      default: 256,
      minimum: 1,
      description: "Most pushed documents written in one transaction (group commit) when many arrive at once.",
    }),
    document_cache_mb: Type.Number({
      default: 8,
      minimum: 0,
      description:
        "Canonical JSON size of the recently pushed documents a server with a worker keeps parsed for their diffs (a parsed document takes about 1.3 times that on the heap); 0 reads every document back from the database.",
    }),
    rate_limit_per_minute: Type.Integer({
      default: 120,
      minimum: 0,
      description: "Inventory posts per system per minute before 429; 0 disables the limit.",
    }),
    heartbeat_timeout_minutes: Type.Number({
      default: 10,
      exclusiveMinimum: 0,
      description: "A system whose last heartbeat is older than this becomes inactive.",
    }),
    heartbeat_check_seconds: Type.Integer({ default: 60, minimum: 1, description: "Status check period." }),
    linkfailed_refresh_minutes: Type.Number({
      default: 5,
      exclusiveMinimum: 0,
      description: "How often firing LinkFailed alerts are refreshed.",
    }),
    linkfailed_ttl_minutes: Type.Number({
      default: 10,
      exclusiveMinimum: 0,
      description: "endsAt of a refreshed LinkFailed alert is now plus this.",
    }),
    change_alert_minutes: Type.Number({
      default: 60,
      exclusiveMinimum: 0,
      description: "How long a change alert stays firing after the change was received.",
    }),
    retention_cron: Type.String({ default: "0 * * * *", description: "When record retention runs (cron)." }),
    retention_batch_size: Type.Integer({ default: 500, minimum: 1, description: "Records deleted per transaction." }),
    retention_tiers: Type.Optional(Type.Array(RetentionTierSchema, { description: "Age tiers; see docs." })),
    differ: Obj({
      max_depth: Type.Integer({ default: 10, minimum: 1, description: "Deeper subtrees are compared whole." }),
      max_path_length: Type.Integer({ default: 500, minimum: 16, description: "Longest field path recorded." }),
      max_diffs: Type.Integer({ default: 1000, minimum: 1, description: "Diffs per document before truncation." }),
    }),
    array_identity: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), key: Type.String() }, { additionalProperties: false }), {
        description: "Arrays whose elements are matched by an identifier field.",
      }),
    ),
    categories: Type.Optional(Type.Array(CategoryRuleSchema, { description: "Ordered category rules." })),
    default_category: Type.String({ default: "system", description: "Category when no rule matches." }),
    severity: Type.Optional(Type.Array(SeverityRuleSchema, { description: "Ordered severity rules." })),
    numeric_change_percent: Type.Number({
      default: 20,
      minimum: 0,
      description: "Unmatched numeric changes above this percentage are medium, else low.",
    }),
    significance: Obj({
      never: Type.Optional(Type.Array(Type.String(), { description: "Paths whose changes never notify." })),
      thresholds: Type.Optional(
        Type.Array(
          Type.Object(
            { pattern: Type.String(), min_change_percent: Type.Number({ minimum: 0 }) },
            { additionalProperties: false },
          ),
          { description: "Numeric changes under min_change_percent on a matching path are not significant." },
        ),
      ),
      always_severities: Type.Optional(Type.Array(Level, { description: "Severities that are always significant." })),
      always_categories: Type.Optional(
        Type.Array(Type.String(), { description: "Categories that are always significant." }),
      ),
      always_change_types: Type.Optional(
        Type.Array(Type.String(), { description: "Change types (create/update/delete) always significant." }),
      ),
      default_min_severity: Type.Union(
        [Type.Literal("critical"), Type.Literal("high"), Type.Literal("medium"), Type.Literal("low")],
        {
          default: "medium",
          description: "Otherwise a change is significant from this severity up.",
        },
      ),
    }),
  }),
});

export type Settings = Static<typeof SettingsSchema>;

import pino, { type Logger } from "pino";
import type { Settings } from "../config/schema.js";
import { type Database, migrate, openDatabase, resolveDatabaseUrl } from "../db/connect.js";
import { startWalCheckpointer } from "../db/wal-checkpointer.js";
import { SystemVerifier } from "../auth/system-credentials.js";
import { TokenVerifier } from "../auth/tokens.js";
import { DIFF_QUEUE, IngestBatcher } from "../inventory/ingest.js";
import { DocumentCache } from "../inventory/document-cache.js";
import { processRecords } from "../inventory/process.js";
import { type InventoryRules, inventoryRules } from "../inventory/settings.js";
import { createMetrics, type Metrics } from "../observability/metrics.js";
import { parseRateCard } from "../billing/rate-card.js";
import type { CompiledPlans } from "../billing/plans.js";
import { compileBillingSettings } from "../cloudfoundry/billing.js";
import { resolveVcenterPassword } from "../config/secret-settings.js";
import { snapshotFilters } from "../vsphere/filters.js";
import { EmbeddedQueue } from "../queue/embedded.js";
import type { Queue } from "../queue/types.js";
import { CommandHub } from "../commands/hub.js";

/** Everything a running Fleetledger needs, built once from settings and shared by server, worker and CLI. */
export interface AppContext {
  settings: Settings;
  database: Database;
  log: Logger;
  queue: Queue;
  metrics: Metrics;
  rules: InventoryRules;
  systems: SystemVerifier;
  tokens: TokenVerifier;
  /** settings.vcenter_password decrypted; the settings object itself keeps the encrypted form. */
  vcenterPassword: string;
  /** Cloud Foundry pricing plans, VAT and currency rates, compiled and validated at start. */
  plans: CompiledPlans;
  /** Group commit for pushed inventory documents. */
  ingest: IngestBatcher;
  /** Agents connected to this process's /ws/agent and the remote commands waiting for their answers. */
  commands: CommandHub;
  close(): Promise<void>;
}

export interface ContextOptions {
  logger?: Logger;
  /** PostgreSQL schema override (tests). */
  schema?: string;
}

export async function createContext(settings: Settings, options: ContextOptions = {}): Promise<AppContext> {
  const log = options.logger ?? pino({ level: settings.log.level });
  // Rules, rate card and secrets are checked before touching the database so each fails start-up with its own message.
  const rules = inventoryRules(settings);
  parseRateCard(settings.billing.rate_card);
  const plans = compileBillingSettings(settings);
  snapshotFilters(settings);
  const vcenterPassword = resolvePassword(settings, log);
  const database = await openDatabase(resolveDatabaseUrl(settings.database.url, settings.data_dir), {
    poolSize: settings.database.pool_size,
    ...(options.schema ? { schema: options.schema } : {}),
  });
  await migrate(database);
  const checkpointer = database.file
    ? await startWalCheckpointer(database.db, database.file, log.child({ component: "sqlite" }))
    : undefined;
  const metrics = createMetrics();
  const q = settings.queue;
  const queue = new EmbeddedQueue(
    database.db,
    database.dialect,
    {
      concurrency: q.concurrency,
      batchSize: q.batch_size,
      pollIntervalMs: q.poll_interval_ms,
      maxAttempts: q.max_attempts,
      backoffBaseMs: q.backoff_base_ms,
      backoffCapMs: q.backoff_cap_ms,
      leaseSeconds: q.lease_seconds,
    },
    log.child({ component: "queue" }),
    {
      onJobDone(name, result, seconds) {
        metrics.queueJobs.inc({ queue: name, result });
        metrics.queueJobDuration.observe({ queue: name }, seconds);
      },
    },
  );
  metrics.watchQueue(queue);
  const commands = new CommandHub(log.child({ component: "commands" }));
  // Only a process that runs the diff jobs gains from keeping what it stored; `serve --no-worker` would only fill it.
  const cacheBytes = settings.server.worker ? settings.inventory.document_cache_mb * 2 ** 20 : 0;
  const cache = cacheBytes > 0 ? new DocumentCache(cacheBytes) : undefined;
  const processDeps = {
    db: database.db,
    dialect: database.dialect,
    rules,
    changeAlertMinutes: settings.inventory.change_alert_minutes,
    cache,
  };
  queue.register(DIFF_QUEUE, async (payload) => {
    // Jobs written before group commit carry one record_id; they may still wait in an upgraded database.
    const { record_id, record_ids } = payload as { record_id?: number; record_ids?: number[] };
    await processRecords(processDeps, record_ids ?? (record_id === undefined ? [] : [record_id]));
  });
  return {
    settings,
    database,
    log,
    queue,
    metrics,
    rules,
    systems: new SystemVerifier(database.db, settings.auth.credential_cache_seconds),
    tokens: new TokenVerifier(database.db, settings.auth.credential_cache_seconds),
    vcenterPassword,
    plans,
    ingest: new IngestBatcher(
      { db: database.db, dialect: database.dialect, queue, cache },
      settings.inventory.ingest_batch_size,
    ),
    commands,
    async close() {
      commands.close();
      await queue.stop();
      await checkpointer?.close();
      await database.close();
    },
  };
}

/**
 * vCTP's credential lifecycle: an enc:v1: value is decrypted; a legacy ciphertext or a plaintext longer than two
 * characters is accepted and rewritten encrypted in the settings file it came from.
 */
function resolvePassword(settings: Settings & { config_file?: string | null }, log: Logger): string {
  const value = settings.settings.vcenter_password;
  if (value === "") return "";
  const { password, rewritten } = resolveVcenterPassword({
    file: settings.config_file ?? null,
    path: ["settings", "vcenter_password"],
    value,
    encryptionKey: settings.settings.encryption_key,
  });
  if (rewritten)
    log.info({ file: settings.config_file }, "settings.vcenter_password is now stored encrypted (enc:v1:)");
  return password;
}

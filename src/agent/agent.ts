import { join } from "node:path";
import type { Logger } from "pino";
import type { AgentConfig } from "./config.js";
import type { Credentials } from "./credentials.js";
import { documentHash, type FactSources, factsDocument, hardwareHash } from "./facts.js";
import { HttpClient } from "./http.js";
import { type AgentCounters, Outbox } from "./outbox.js";
import { pushInventory, pushMetrics, sendHeartbeat } from "./server-api.js";
import { type Batch, Spool } from "./spool.js";
import { ensureStateDir, JsonStore } from "./state-files.js";
import { type Exporter, type LogRow, type LogSource, type MetricRow, metric } from "./types.js";
import { AGENT_VERSION } from "./version.js";

export interface AgentParts {
  config: AgentConfig;
  credentials: Credentials;
  serverUrl: string;
  log: Logger;
  exporters: Exporter[];
  logSources: LogSource[];
  /** Reads the host facts; the inventory is skipped when absent. */
  readFacts?: () => Promise<FactSources>;
  now?: () => number;
  random?: () => number;
}

export interface CycleReport {
  metrics: number;
  logs: number;
  spooled: number;
}

/**
 * The agent: every interval one batch of metrics from the enabled exporters plus new log lines, handed to the
 * outbox; heartbeats and inventory on their own timers. `runOnce`, `heartbeat` and `checkInventory` are what the
 * timers call, and what tests call directly.
 */
export class Agent {
  readonly client: HttpClient;
  readonly outbox: Outbox;
  readonly spool: Spool;
  private readonly parts: AgentParts;
  private readonly cursors: JsonStore<Record<string, string>>;
  private readonly counters: JsonStore<AgentCounters>;
  private readonly inventoryState: JsonStore<{ hash: string | null; hw_hash: string | null }>;
  private readonly now: () => number;
  /** Where each log source reads next: ahead of the committed cursors by the lines waiting in the spool. */
  private readonly pending: Record<string, string>;
  private exporters: Exporter[] = [];
  private logSources: LogSource[] = [];
  private readonly failing = new Map<string, string>();
  private heartbeatFailing = false;
  private timers: NodeJS.Timeout[] = [];
  private busy: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(parts: AgentParts) {
    this.parts = parts;
    this.now = parts.now ?? Date.now;
    const dir = parts.config.state_dir;
    ensureStateDir(dir);
    this.client = new HttpClient(parts.serverUrl, {
      skipVerify: parts.config.tls.skip_verify,
      ...(parts.config.tls.ca_file ? { caFile: parts.config.tls.ca_file } : {}),
    });
    this.spool = new Spool(join(dir, "spool"), parts.config.spool.max_bytes);
    this.cursors = new JsonStore(join(dir, "cursors.json"), {});
    this.counters = new JsonStore<AgentCounters>(join(dir, "counters.json"), {
      dropped_batches: 0,
      refused_batches: 0,
    });
    this.inventoryState = new JsonStore(join(dir, "inventory.json"), { hash: null, hw_hash: null });
    this.pending = { ...this.cursors.get(), ...(this.spool.newestCursors() ?? {}) };
    this.outbox = new Outbox({
      spool: this.spool,
      cursors: this.cursors,
      counters: this.counters,
      send: (payload) => pushMetrics(this.client, parts.credentials.client_token, payload),
      log: parts.log,
      now: this.now,
      ...(parts.random ? { random: parts.random } : {}),
    });
  }

  /** Committed log cursors (acknowledged by the server). */
  committedCursors(): Readonly<Record<string, string>> {
    return this.cursors.get();
  }

  /** Probes every exporter and log source once; those that fail are disabled with one log line each. */
  async start(): Promise<void> {
    const probe = async <T extends Exporter | LogSource>(kind: string, items: T[]) => {
      const results = await Promise.all(items.map(async (item) => ({ item, result: await item.probe() })));
      return results
        .filter(({ item, result }) => {
          if (!result.ok) this.parts.log.info(`${kind} ${item.name} disabled: ${result.reason}`);
          return result.ok;
        })
        .map(({ item }) => item);
    };
    this.exporters = await probe("exporter", this.parts.exporters);
    this.logSources = await probe("log source", this.parts.logSources);
    this.parts.log.info(
      {
        exporters: this.exporters.map((e) => e.name),
        logs: this.logSources.map((s) => s.name),
        spooled: this.spool.count,
      },
      "agent started",
    );
  }

  enabledExporters(): string[] {
    return this.exporters.map((e) => e.name);
  }

  async runOnce(): Promise<CycleReport> {
    const now = this.now() / 1000;
    const metrics: MetricRow[] = [];
    await Promise.all(
      this.exporters.map(async (exporter) => {
        try {
          const result = await exporter.collect(now);
          metrics.push(...result.metrics);
          this.recovered(`exporter ${exporter.name}`);
          for (const warning of result.warnings ?? []) this.parts.log.warn({ exporter: exporter.name }, warning);
        } catch (err) {
          this.failed(`exporter ${exporter.name}`, err);
        }
      }),
    );
    const logs: LogRow[] = [];
    for (const source of this.logSources) {
      try {
        const read = await source.read(this.pending[source.name], this.parts.config.logs.max_lines_per_cycle);
        logs.push(...read.logs);
        if (read.cursor !== undefined) this.pending[source.name] = read.cursor;
        this.recovered(`log source ${source.name}`);
      } catch (err) {
        this.failed(`log source ${source.name}`, err);
      }
    }
    const counters = this.counters.get();
    metrics.push(
      metric(now, "agent_spool_dropped_batches_total", counters.dropped_batches),
      metric(now, "agent_refused_batches_total", counters.refused_batches),
      metric(now, "agent_spool_batches", this.spool.count),
    );
    const extra = this.parts.config.labels;
    if (Object.keys(extra).length > 0) {
      for (const row of metrics) row.labels = { ...extra, ...(row.labels ?? {}) };
    }
    const batch: Batch = {
      payload: { metrics, logs, hw_hash: this.inventoryState.get().hw_hash },
      cursors: { ...this.pending },
      created_at: now,
    };
    await this.outbox.submit(batch);
    return { metrics: metrics.length, logs: logs.length, spooled: this.spool.count };
  }

  async heartbeat(): Promise<boolean> {
    const outcome = await sendHeartbeat(this.client, this.parts.credentials);
    if (outcome.kind === "ok") {
      if (this.heartbeatFailing) this.parts.log.info("heartbeat delivered again");
      this.heartbeatFailing = false;
      return true;
    }
    if (!this.heartbeatFailing) this.parts.log.warn({ reason: outcome.reason }, "heartbeat failed");
    this.heartbeatFailing = true;
    return false;
  }

  /** Reads the host facts and pushes them when their hash differs from the last one the server accepted. */
  async checkInventory(): Promise<"sent" | "unchanged" | "failed" | "skipped"> {
    if (!this.parts.readFacts) return "skipped";
    let document: { facts: Record<string, unknown> };
    try {
      document = factsDocument(await this.parts.readFacts(), {
        agent_version: AGENT_VERSION,
        docker: this.exporters.some((e) => e.name === "docker"),
        exporters: this.exporters.map((e) => e.name),
      });
    } catch (err) {
      this.failed("inventory", err);
      return "failed";
    }
    const hash = documentHash(document);
    const hw = hardwareHash(document);
    const state = this.inventoryState.get();
    if (state.hw_hash !== hw) this.inventoryState.set({ ...state, hw_hash: hw });
    if (state.hash === hash) return "unchanged";
    const outcome = await pushInventory(this.client, this.parts.credentials, document);
    if (outcome.kind !== "ok") {
      this.parts.log.warn({ reason: outcome.reason }, "inventory push failed; retried at the next check");
      return "failed";
    }
    this.inventoryState.set({ hash, hw_hash: hw });
    this.parts.log.info({ duplicate: outcome.duplicate }, "inventory pushed");
    return "sent";
  }

  /** Runs the timers until `stop`. Work never overlaps: a slow cycle delays the next instead of piling up. */
  loop(): void {
    const { config } = this.parts;
    const serial = (task: () => Promise<unknown>) => () => {
      if (this.stopped) return;
      this.busy = this.busy.then(task).catch((err: unknown) => this.parts.log.error({ err }, "agent task failed"));
    };
    const every = (ms: number, task: () => Promise<unknown>) => {
      serial(task)();
      this.timers.push(setInterval(serial(task), ms));
    };
    every(config.inventory_interval_ms, () => this.checkInventory());
    every(config.heartbeat_interval_ms, () => this.heartbeat());
    every(config.interval_ms, () => this.runOnce());
    // Between cycles, retry the spool as soon as the backoff allows rather than at the next cycle only.
    this.timers.push(
      setInterval(
        serial(async () => {
          const at = this.outbox.retryAt;
          if (at !== undefined && at <= this.now() && this.outbox.waiting > 0) await this.outbox.flush();
        }),
        1000,
      ),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.busy;
    this.client.close();
  }

  private failed(what: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    // One line per new problem, not one per cycle: a broken tool would otherwise fill the journal every 30 s.
    if (this.failing.get(what) !== message) this.parts.log.warn({ error: message }, `${what} failed`);
    this.failing.set(what, message);
  }

  private recovered(what: string): void {
    if (this.failing.delete(what)) this.parts.log.info(`${what} works again`);
  }
}

import { existsSync, writeFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { addAgentCommands } from "./agent/cli.js";
import { sql } from "kysely";
import pino from "pino";
import { type AppContext, createContext } from "./app/context.js";
import { startSchedules } from "./app/scheduler.js";
import { createToken } from "./auth/tokens.js";
import { loadSettings, SettingsError } from "./config/load.js";
import type { Role } from "./db/types.js";
import { ImportError, importHistory, readImportFile } from "./inventory/import.js";
import { pruneRecords } from "./inventory/retention-job.js";
import { RuleError } from "./inventory/rules.js";
import { inventoryRules, retentionTiers } from "./inventory/settings.js";
import { settingsReference } from "./config/docs.js";
import { billCsv, billXlsx } from "./cloudfoundry/bill-export.js";
import { billingDeps, monthlyBill } from "./cloudfoundry/billing.js";
import { PlanError } from "./billing/plans.js";
import { ImportSourceError, importFromSqlite } from "./db/import-sqlite.js";
import { AggregateInputError } from "./vsphere/aggregate.js";
import { reportWriter } from "./vsphere/reports.js";
import {
  backfillCaches,
  cleanupSnapshots,
  runDailyAggregation,
  runMonthlyAggregation,
  vmChargeback,
} from "./vsphere/service.js";
import { SecretError } from "./auth/secret-box.js";
import { RateCardError } from "./billing/rate-card.js";
import { parseIsoTime } from "./lib/time.js";
import { maintainTelemetry } from "./telemetry/maintenance.js";
import { progress } from "./lib/progress.js";
import {
  ConflictError,
  createOrganization,
  createSystem,
  listOrganizations,
  listSystems,
  NotFoundError,
} from "./systems/registry.js";

interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

const program = new Command()
  .name("fleetledger")
  .description("Fleetledger: what you run, how it changes, how it behaves and what it costs.")
  .option("-c, --config <file>", "settings file (default: ./fleetledger.yml if present)")
  .option("-d, --data-dir <dir>", "data folder (overrides the data_dir setting)")
  .showHelpAfterError();

function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/** Opens settings and database for a one-shot command; logs go to stderr so stdout stays machine-readable. */
async function withContext<T>(command: Command, fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const g = globals(command);
  const settings = loadSettings({ configPath: g.config, dataDir: g.dataDir });
  const ctx = await createContext(settings, { logger: pino({ level: "warn" }, pino.destination(2)) });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be a port number 0-65535");
  return n;
};

program
  .command("serve")
  .description("run the HTTP server, dashboard, queue workers and schedules (embedded mode)")
  .option("-p, --port <n>", "HTTP port (overrides server.port)", port)
  .option("--no-worker", "serve HTTP only; run `fleetledger worker` elsewhere")
  .action(async (options: { port?: number; worker: boolean }, command: Command) => {
    const g = globals(command);
    const settings = loadSettings({ configPath: g.config, dataDir: g.dataDir });
    if (!options.worker) settings.server.worker = false;
    // Loaded here so one-shot commands do not pay for the HTTP server and dashboard assets.
    const { startServer } = await import("./app/server.js");
    const ctx = await createContext(settings);
    const { app, address } = await startServer(ctx, options.port ?? settings.server.port, settings.server.host);
    ctx.log.info(
      { address, database: ctx.database.location, config: settings.config_file ?? "(defaults)" },
      `Fleetledger is serving; dashboard at http://localhost:${new URL(address).port}`,
    );
    const shutdown = async (signal: string) => {
      ctx.log.info({ signal }, "shutting down");
      await app.close();
      process.exit(0);
    };
    process.once("SIGINT", () => void shutdown("SIGINT"));
    process.once("SIGTERM", () => void shutdown("SIGTERM"));
  });

program
  .command("worker")
  .description("run queue workers and schedules without the HTTP server (cluster mode, beside `serve --no-worker`)")
  .action(async (_options: unknown, command: Command) => {
    const g = globals(command);
    const settings = loadSettings({ configPath: g.config, dataDir: g.dataDir });
    const ctx = await createContext(settings);
    ctx.queue.start();
    const schedules = startSchedules(ctx);
    ctx.log.info({ database: ctx.database.location }, "Fleetledger worker running");
    const shutdown = async (signal: string) => {
      ctx.log.info({ signal }, "shutting down");
      await schedules.stop();
      await ctx.close();
      process.exit(0);
    };
    process.once("SIGINT", () => void shutdown("SIGINT"));
    process.once("SIGTERM", () => void shutdown("SIGTERM"));
  });

const org = program.command("org").description("organizations (tenants)");
org
  .command("create <name>")
  .description("create an organization")
  .option("--json", "print JSON")
  .action(async (name: string, options: { json?: boolean }, command: Command) => {
    const created = await withContext(command, (ctx) => createOrganization(ctx.database.db, name));
    print(!!options.json, created, `organization ${created.name} created with id ${created.id}`);
  });
org
  .command("list")
  .option("--json", "print JSON")
  .action(async (options: { json?: boolean }, command: Command) => {
    const orgs = await withContext(command, (ctx) => listOrganizations(ctx.database.db));
    print(!!options.json, orgs, orgs.map((o) => `${o.id}  ${o.name}`).join("\n") || "no organizations");
  });

const system = program.command("system").description("systems that push inventory and heartbeats");
system
  .command("create")
  .description("register a system; prints its key and secret (the secret is shown only once)")
  .requiredOption("--org <org>", "organization id or name")
  .requiredOption("--name <name>", "system name")
  .option("--json", "print JSON")
  .action(async (options: { org: string; name: string; json?: boolean }, command: Command) => {
    const created = await withContext(command, (ctx) => createSystem(ctx.database.db, options.org, options.name));
    print(
      !!options.json,
      created,
      `system ${options.name} registered\n  id:            ${created.id}\n  system_key:    ${created.system_key}\n  system_secret: ${created.system_secret}`,
    );
  });
system
  .command("list")
  .option("--json", "print JSON")
  .action(async (options: { json?: boolean }, command: Command) => {
    const systems = await withContext(command, (ctx) => listSystems(ctx.database.db));
    print(
      !!options.json,
      systems,
      systems.map((s) => `${s.id}  ${s.system_key}  ${s.status.padEnd(8)}  ${s.name}`).join("\n") || "no systems",
    );
  });

program
  .command("token")
  .description("API tokens for the admin API and the dashboard")
  .command("create")
  .description("create an API token (shown only once)")
  .requiredOption("--name <name>", "what the token is for")
  .addOption(
    new Option("--role <role>", "admin, viewer, or enroll (only registers agents)")
      .choices(["admin", "viewer", "enroll"])
      .default("viewer"),
  )
  .option("--org <guid...>", "limit the token to the billing data of these Cloud Foundry organizations")
  .option("--json", "print JSON")
  .action(async (options: { name: string; role: Role; org?: string[]; json?: boolean }, command: Command) => {
    const token = await withContext(command, (ctx) =>
      createToken(ctx.database.db, options.name, options.role, new Date(), options.org),
    );
    print(!!options.json, { token }, token);
  });

const inventory = program.command("inventory").description("inventory records and changes");
inventory
  .command("import")
  .description(
    "import history: one {system_key, received_at, data} JSON object per line, deduplicated and diffed in time order",
  )
  .requiredOption("--file <file>", "JSON Lines file")
  .option("--json", "print JSON")
  .action(async (options: { file: string; json?: boolean }, command: Command) => {
    const lines = await readImportFile(options.file);
    const result = await withContext(command, async (ctx) => {
      const bar = progress("importing", process.stderr);
      const imported = await importHistory(
        { db: ctx.database.db, dialect: ctx.database.dialect, queue: ctx.queue },
        lines,
        bar.update,
      );
      bar.done();
      const diffs = progress("diffing", process.stderr);
      const processed = await ctx.queue.drain((n) => diffs.update(n, imported.records));
      diffs.done();
      return { ...imported, processed };
    });
    print(
      !!options.json,
      result,
      `imported ${result.records} records (${result.duplicates} duplicates skipped), ${result.processed} diffed`,
    );
  });
inventory
  .command("prune")
  .description("apply record retention now (diffs are never deleted)")
  .option("--now <iso>", "pretend the current time is this ISO-8601 time")
  .option("--dry-run", "report what would be deleted without deleting")
  .option("--json", "print JSON")
  .action(async (options: { now?: string; dryRun?: boolean; json?: boolean }, command: Command) => {
    const now = options.now === undefined ? new Date() : parseIsoTime(options.now);
    if (!now) throw new InvalidArgumentError(`--now must be an ISO-8601 time (got "${options.now}")`);
    const result = await withContext(command, (ctx) =>
      pruneRecords(ctx.database.db, {
        now,
        tiers: retentionTiers(ctx.settings),
        batchSize: ctx.settings.inventory.retention_batch_size,
        dryRun: !!options.dryRun,
      }),
    );
    print(
      !!options.json,
      result,
      `${options.dryRun ? "would keep" : "kept"} ${result.kept.length} records, ${options.dryRun ? "would delete" : "deleted"} ${result.deleted.length}`,
    );
  });

const vsphere = program.command("vsphere").description("vCenter snapshots, rollups and chargeback (vCTP)");
vsphere
  .command("snapshot")
  .description("snapshot every configured vCenter now and exit (vCTP -run-inventory)")
  .requiredOption("--once", "run one snapshot and exit")
  .option("--at <iso>", "record the snapshot as taken at this time (backfills)")
  .option("--json", "print JSON")
  .action(async (options: { at?: string; json?: boolean }, command: Command) => {
    const at = options.at === undefined ? new Date() : parseIsoTime(options.at);
    if (!at) throw new InvalidArgumentError(`--at must be an ISO-8601 time (got "${options.at}")`);
    const outcomes = await withContext(command, async (ctx) => {
      if (ctx.settings.settings.vcenter_addresses.length === 0) {
        throw new InvalidArgumentError("settings.vcenter_addresses is empty: there is no vCenter to snapshot");
      }
      const total = ctx.settings.settings.vcenter_addresses.length;
      let done = 0;
      const { snapshotAll } = await import("./vsphere/snapshot-job.js");
      return snapshotAll(
        {
          db: ctx.database.db,
          settings: ctx.settings,
          log: ctx.log,
          metrics: ctx.metrics,
          password: ctx.vcenterPassword,
        },
        at,
        (o) => {
          done++;
          process.stderr.write(
            `[${done}/${total}] ${o.vcenter}: ${o.status}${o.status === "success" ? `, ${o.rows} VMs` : ` after ${o.attempts} attempts: ${o.error}`}\n`,
          );
        },
        reportWriter(ctx),
      );
    });
    print(!!options.json, outcomes, outcomes.map((o) => `${o.vcenter}  ${o.status}  ${o.rows} rows`).join("\n"));
    if (outcomes.some((o) => o.status === "failed")) process.exitCode = 1;
  });
vsphere
  .command("aggregate")
  .description("regenerate a daily or monthly rollup (idempotent), then its reports")
  .option("--daily <date>", "UTC day YYYY-MM-DD")
  .option("--monthly <month>", "month YYYY-MM")
  .option("--json", "print JSON")
  .action(async (options: { daily?: string; monthly?: string; json?: boolean }, command: Command) => {
    if ((options.daily === undefined) === (options.monthly === undefined)) {
      throw new InvalidArgumentError("give exactly one of --daily YYYY-MM-DD or --monthly YYYY-MM");
    }
    const outcome = await withContext(command, (ctx) =>
      options.daily !== undefined
        ? runDailyAggregation(ctx, options.daily, reportWriter(ctx))
        : runMonthlyAggregation(ctx, options.monthly as string, reportWriter(ctx)),
    );
    print(
      !!options.json,
      outcome,
      `${outcome.type} ${outcome.date}: ${outcome.rows} rows in ${outcome.duration_ms} ms`,
    );
  });
vsphere
  .command("chargeback")
  .description("VM chargeback per tenant for a day or a month")
  .option("--date <date>", "UTC day YYYY-MM-DD")
  .option("--month <month>", "month YYYY-MM")
  .option("--json", "print JSON")
  .action(async (options: { date?: string; month?: string; json?: boolean }, command: Command) => {
    if ((options.date === undefined) === (options.month === undefined)) {
      throw new InvalidArgumentError("give exactly one of --date YYYY-MM-DD or --month YYYY-MM");
    }
    const result = await withContext(command, (ctx) =>
      vmChargeback(ctx, options.date !== undefined ? { day: options.date } : { month: options.month as string }),
    );
    const lines = result.tenants.map(
      (t) => `${t.tenant.padEnd(24)} ${String(t.vms).padStart(5)} VMs  ${t.total} ${result.currency}`,
    );
    print(!!options.json, result, [...lines, `${"total".padEnd(35)} ${result.total} ${result.currency}`].join("\n"));
  });
vsphere
  .command("backfill-cache")
  .description("rebuild vcenter_latest_totals and vcenter_aggregate_totals (vCTP -backfill-vcenter-cache)")
  .option("--json", "print JSON")
  .action(async (options: { json?: boolean }, command: Command) => {
    const bar = progress("backfilling", process.stderr);
    const result = await withContext(command, (ctx) => backfillCaches(ctx, bar.update));
    bar.done();
    print(
      !!options.json,
      result,
      `rebuilt caches from ${result.snapshots} snapshots, ${result.days} days, ${result.months} months`,
    );
  });

program
  .command("db-cleanup")
  .description("apply snapshot retention now and refresh planner statistics (vCTP -db-cleanup)")
  .option("--json", "print JSON")
  .action(async (options: { json?: boolean }, command: Command) => {
    const result = await withContext(command, async (ctx) => {
      const deleted = await cleanupSnapshots(ctx);
      await sql`analyze`.execute(ctx.database.db);
      return deleted;
    });
    print(!!options.json, result, `deleted ${result.samples} samples and ${result.daily} daily rows`);
  });

program
  .command("import")
  .description("copy an embedded (SQLite) install into the configured PostgreSQL database, replacing its tables")
  .requiredOption("--from <source>", "sqlite:FILE")
  .option("--json", "print JSON")
  .action(async (options: { from: string; json?: boolean }, command: Command) => {
    if (!options.from.startsWith("sqlite:")) throw new InvalidArgumentError("--from must be sqlite:FILE");
    const file = options.from.slice("sqlite:".length);
    if (!existsSync(file)) throw new InvalidArgumentError(`no such file: ${file}`);
    let bar: ReturnType<typeof progress> | undefined;
    let current = "";
    const counts = await withContext(command, (ctx) =>
      importFromSqlite(file, ctx.database, (p) => {
        if (p.table !== current) {
          bar?.done();
          current = p.table;
          bar = progress(p.table, process.stderr);
        }
        bar?.update(p.done, p.total);
      }),
    );
    bar?.done();
    print(
      !!options.json,
      counts,
      Object.entries(counts)
        .map(([t, n]) => `${t.padEnd(26)} ${n}`)
        .join("\n"),
    );
  });

program
  .command("cf")
  .description("Cloud Foundry usage events")
  .command("sync")
  .description("collect app and service usage events from every configured foundation until caught up")
  .requiredOption("--once", "collect once and exit")
  .option("--json", "print JSON")
  .action(async (options: { json?: boolean }, command: Command) => {
    const outcomes = await withContext(command, async (ctx) => {
      if (ctx.settings.cloudfoundry.foundations.length === 0) {
        throw new InvalidArgumentError("cloudfoundry.foundations is empty: there is no Cloud Foundry to collect from");
      }
      const { syncOnce } = await import("./cloudfoundry/sync.js");
      return syncOnce(ctx, (o) => {
        process.stderr.write(
          `${o.source} ${o.kind} events: ${o.fetched} read, ${o.stored} new${o.skipped_bad ? `, ${o.skipped_bad} malformed skipped` : ""}${o.gap ? ", resumed after a purge" : ""}\n`,
        );
      });
    });
    print(
      !!options.json,
      outcomes,
      outcomes.map((o) => `${o.source.padEnd(16)} ${o.kind.padEnd(8)} ${o.stored} new events`).join("\n"),
    );
  });

program
  .command("bill")
  .description("the Cloud Foundry bill of a month per organization, space and plan")
  .requiredOption("--month <month>", "YYYY-MM")
  .option("--org <guid...>", "only these organizations")
  .addOption(new Option("--format <format>", "output format").choices(["json", "csv", "xlsx"]).default("json"))
  .option("--output <file>", "write to this file (default: standard output; required for xlsx)")
  .action(
    async (
      options: { month: string; org?: string[]; format: "json" | "csv" | "xlsx"; output?: string },
      command: Command,
    ) => {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(options.month))
        throw new InvalidArgumentError(`--month must be YYYY-MM (got "${options.month}")`);
      if (options.format === "xlsx" && !options.output)
        throw new InvalidArgumentError("--format xlsx needs --output FILE");
      const bill = await withContext(command, (ctx) => monthlyBill(billingDeps(ctx), options.month, options.org));
      const body =
        options.format === "json"
          ? `${JSON.stringify(bill, null, 2)}\n`
          : options.format === "csv"
            ? billCsv(bill)
            : await billXlsx(bill);
      if (options.output) writeFileSync(options.output, body);
      else process.stdout.write(body);
    },
  );

const telemetry = program.command("telemetry").description("agent metrics and logs");
telemetry
  .command("maintain")
  .description("roll up recent metric points, then apply metric, rollup and log retention, once")
  .option("--now <iso>", "pretend the current time is this ISO-8601 time")
  .option("--json", "print JSON")
  .action(async (options: { now?: string; json?: boolean }, command: Command) => {
    const now = options.now === undefined ? new Date() : parseIsoTime(options.now);
    if (!now) throw new InvalidArgumentError(`--now must be an ISO-8601 time (got "${options.now}")`);
    const result = await withContext(command, (ctx) =>
      maintainTelemetry(ctx.database.db, ctx.settings.telemetry, now.getTime()),
    );
    const { rollup, retention } = result;
    print(
      !!options.json,
      result,
      `rolled up ${rollup.points} points of ${rollup.hours} hours into ${rollup.rows} rollup rows; deleted ` +
        `${retention.points} points, ${retention.rollups5m} 5-minute and ${retention.rollups1h} 1-hour rollups, ` +
        `${retention.logs} log lines`,
    );
  });

const config = program.command("config").description("settings");
config
  .command("check")
  .description("validate the settings file and environment, print the effective settings")
  .action((_options: unknown, command: Command) => {
    const g = globals(command);
    const settings = loadSettings({ configPath: g.config, dataDir: g.dataDir });
    inventoryRules(settings);
    process.stdout.write(`${JSON.stringify(settings, null, 2)}\n`);
  });
config
  .command("reference")
  .description("print the settings reference table (Markdown), as in docs/configuration.md")
  .action(() => {
    process.stdout.write(settingsReference());
  });

addAgentCommands(program);

const KNOWN_ERRORS = [
  SettingsError,
  RuleError,
  ImportError,
  NotFoundError,
  ConflictError,
  InvalidArgumentError,
  SecretError,
  RateCardError,
  AggregateInputError,
  ImportSourceError,
  PlanError,
];

program.parseAsync(process.argv).catch((err: unknown) => {
  if (KNOWN_ERRORS.some((type) => err instanceof type)) {
    process.stderr.write(`fleetledger: ${(err as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`fleetledger: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

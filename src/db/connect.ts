import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import { cachingSqlite } from "./statement-cache.js";
import { migrationProvider } from "./migrations/index.js";
import type { DB } from "./types.js";

export type Dialect = "sqlite" | "postgres";

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** Human-readable location without credentials, for logs and /readyz. */
  location: string;
  /** PostgreSQL schema in use when it is not the connection's default. */
  schema?: string;
  /** The SQLite database file; absent on PostgreSQL and for an in-memory database. */
  file?: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  poolSize?: number;
  /** PostgreSQL schema to use instead of `public` (tests isolate themselves this way). */
  schema?: string;
}

// pg returns int8 (bigserial ids, count(*)) as strings; every id we create stays far below 2^53.
pg.types.setTypeParser(20, (value) => Number(value));

export function resolveDatabaseUrl(url: string, dataDir: string): string {
  return url === "" ? `sqlite:${resolve(dataDir, "fleetledger.db")}` : url;
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    const parsed = new URL(url);
    return {
      db,
      dialect: "postgres",
      location: `postgres://${parsed.host}${parsed.pathname}`,
      ...(options.schema ? { schema: options.schema } : {}),
      close: () => db.destroy(),
    };
  }
  if (url.startsWith("sqlite:")) {
    const file = url.slice("sqlite:".length);
    if (file !== ":memory:") mkdirSync(dirname(resolve(file)), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL lets readers run beside the writer; synchronous=NORMAL keeps every committed transaction across a process
    // crash (kill -9) because the WAL is in the OS page cache, and only a power loss can undo the last commits.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("foreign_keys = ON");
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingSqlite(sqlite) }) });
    return {
      db,
      dialect: "sqlite",
      location: `sqlite:${file}`,
      ...(file === ":memory:" ? {} : { file }),
      close: () => db.destroy(),
    };
  }
  throw new Error(`database.url must start with sqlite: or postgres:// (got "${url}")`);
}

export async function migrate(database: Database): Promise<void> {
  const migrator = new Migrator({
    db: database.db,
    provider: migrationProvider(database.dialect),
    migrationTableName: "fleetledger_migrations",
    migrationLockTableName: "fleetledger_migrations_lock",
    // The migrator looks its tables up by name across all schemas; pin it to ours so installs sharing a database
    // in different schemas do not see each other's migration state.
    ...(database.schema ? { migrationTableSchema: database.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { type AppContext, createContext } from "../../src/app/context.js";
import { loadSettings } from "../../src/config/load.js";
import type { Settings } from "../../src/config/schema.js";

export type TestDialect = "sqlite" | "postgres";

export const TEST_PG_URL = process.env.FLEETLEDGER_TEST_DATABASE_URL;

/** Every store test runs once per dialect; PostgreSQL joins when the test database is configured. */
export const DIALECTS: TestDialect[] = TEST_PG_URL ? ["sqlite", "postgres"] : ["sqlite"];

export interface TestEnv {
  settings: Settings;
  ctx: AppContext;
  dataDir: string;
  cleanup(): Promise<void>;
}

export async function createTestEnv(
  dialect: TestDialect,
  configure: (settings: Settings) => void = () => undefined,
): Promise<TestEnv> {
  const dataDir = mkdtempSync(join(tmpdir(), "fleetledger-test-"));
  const settings = loadSettings({ dataDir, env: {}, cwd: dataDir });
  settings.log.level = "silent";
  let schema: string | undefined;
  if (dialect === "postgres") {
    if (!TEST_PG_URL) throw new Error("FLEETLEDGER_TEST_DATABASE_URL is not set");
    schema = `${testSchemaPrefix()}${randomBytes(6).toString("hex")}`;
    await adminQuery(`create schema ${schema}`);
    settings.database.url = TEST_PG_URL;
    settings.database.pool_size = 4;
  }
  configure(settings);
  const ctx = await createContext(settings, { logger: pino({ level: "silent" }), ...(schema ? { schema } : {}) });
  return {
    settings,
    ctx,
    dataDir,
    async cleanup() {
      await ctx.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Schemas of this test run share a prefix and are dropped together when the run ends (global-setup.ts), not by
 * each test: Kysely's migrator introspects every table of the database, and a schema another test worker drops at
 * that moment fails it with "schema … does not exist".
 */
function testSchemaPrefix(): string {
  return `t_${process.env.PG_TEST_SCHEMA_RUN ?? "local"}_`;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export function basic(key: string, secret: string): string {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`;
}

import pg from "pg";

/**
 * The PostgreSQL half of the suite runs when FLEETLEDGER_TEST_DATABASE_URL is set. In CI (CI=true) a missing or
 * unreachable database fails the run instead of silently testing SQLite only.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const url = process.env.FLEETLEDGER_TEST_DATABASE_URL;
  if (!url) {
    if (process.env.CI === "true") throw new Error("CI=true but FLEETLEDGER_TEST_DATABASE_URL is not set");
    console.warn("FLEETLEDGER_TEST_DATABASE_URL is not set: PostgreSQL tests are skipped");
    return undefined;
  }
  // Workers are forked after this runs and inherit the run id that names their schemas (see test/helpers/env.ts).
  const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  process.env.PG_TEST_SCHEMA_RUN = run;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query("select 1");
  } catch (err) {
    throw new Error(`cannot reach the test database ${url}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  return async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ name: string }>(
        "select nspname as name from pg_namespace where nspname like $1",
        [`t\\_${run}\\_%`],
      );
      for (const { name } of rows) await admin.query(`drop schema "${name}" cascade`);
    } finally {
      await admin.end();
    }
  };
}

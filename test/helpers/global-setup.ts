import pg from "pg";

/**
 * The PostgreSQL half of the suite runs when FLEETLEDGER_TEST_DATABASE_URL is set. In CI (CI=true) a missing or
 * unreachable database fails the run instead of silently testing SQLite only.
 */
export default async function setup(): Promise<void> {
  const url = process.env.FLEETLEDGER_TEST_DATABASE_URL;
  if (!url) {
    if (process.env.CI === "true") throw new Error("CI=true but FLEETLEDGER_TEST_DATABASE_URL is not set");
    console.warn("FLEETLEDGER_TEST_DATABASE_URL is not set: PostgreSQL tests are skipped");
    return;
  }
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query("select 1");
  } catch (err) {
    throw new Error(`cannot reach the test database ${url}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

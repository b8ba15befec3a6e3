import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createContext } from "../../src/app/context.js";
import { openDatabase } from "../../src/db/connect.js";
import { migrationProvider } from "../../src/db/migrations/index.js";
import { DocumentCache } from "../../src/inventory/document-cache.js";
import { ingestDocument } from "../../src/inventory/ingest.js";
import { latestRecord, listDiffs, listRecords } from "../../src/inventory/store.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import { createTestEnv, DIALECTS, TEST_PG_URL, type TestEnv } from "../helpers/env.js";

const doc = (version: string, extra: Record<string, unknown> = {}) => ({
  facts: { distro: { name: "rocky", version }, modules: [{ id: "mail1", version: "2.0" }], ...extra },
});

describe("DocumentCache", () => {
  it("evicts the least recently used documents beyond its byte budget", () => {
    const cache = new DocumentCache(100);
    cache.put(1, { a: 1 }, 40);
    cache.put(2, { a: 2 }, 40);
    expect(cache.get(1)).toEqual({ a: 1 });
    cache.put(3, { a: 3 }, 40);
    expect(cache.get(2)).toBeUndefined();
    expect(cache.get(1)).toEqual({ a: 1 });
    expect(cache.get(3)).toEqual({ a: 3 });
    cache.put(4, { a: 4 }, 101);
    expect(cache.get(4)).toBeUndefined();
    cache.delete(1);
    expect(cache.size).toBe(1);
  });
});

describe.each(DIALECTS)("inventory documents on %s", (dialect) => {
  let env: TestEnv | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const pushHistory = async (e: TestEnv) => {
    const db = e.ctx.database.db;
    await createOrganization(db, "acme");
    const sys = await createSystem(db, "acme", "fw-1");
    const deps = { db, dialect: e.ctx.database.dialect, queue: e.ctx.queue };
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 10, minute));
    for (const [minute, version] of ["9.3", "9.4", "9.5", "9.4"].entries()) {
      await ingestDocument(deps, sys.id, doc(version, { minute }), at(minute));
    }
    return sys;
  };

  const expectDiffed = async (e: TestEnv, systemId: string) => {
    const diffs = await listDiffs(e.ctx.database.db, systemId, { limit: 100, offset: 0, category: "os" });
    expect(diffs.map((d) => [d.previous_value, d.current_value])).toEqual([
      ["9.5", "9.4"],
      ["9.4", "9.5"],
      ["9.3", "9.4"],
    ]);
    const records = await listRecords(e.ctx.database.db, systemId, 10, 0);
    expect(records.map((r) => r.change_count)).toEqual([2, 2, 2, 0]);
  };

  it("diffs from the database when no document is cached", async () => {
    env = await createTestEnv(dialect, (s) => {
      s.inventory.document_cache_mb = 0;
    });
    const sys = await pushHistory(env);
    expect(await env.ctx.queue.drain()).toBe(4);
    await expectDiffed(env, sys.id);
  });

  it("diffs after a restart with the jobs still queued", async () => {
    const first = await createTestEnv(dialect);
    const sys = await pushHistory(first);
    const schema = first.ctx.database.schema;
    await first.ctx.close();
    const restarted = await createContext(first.settings, {
      logger: pino({ level: "silent" }),
      ...(schema ? { schema } : {}),
    });
    cleanups.push(async () => rmSync(first.dataDir, { recursive: true, force: true }));
    cleanups.push(() => restarted.close());
    expect(await restarted.queue.drain()).toBe(4);
    await expectDiffed({ ...first, ctx: restarted }, sys.id);
  });

  it("moves the documents of existing records out of inventory_records (migration 009)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "fleetledger-migration-"));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    let url = `sqlite:${join(dataDir, "fleetledger.db")}`;
    let schema: string | undefined;
    if (dialect === "postgres") {
      url = TEST_PG_URL as string;
      schema = `t_${process.env.PG_TEST_SCHEMA_RUN ?? "local"}_${randomBytes(6).toString("hex")}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
    }
    const database = await openDatabase(url, schema ? { schema } : {});
    cleanups.push(() => database.close());
    const migrator = new Migrator({
      db: database.db,
      provider: migrationProvider(database.dialect),
      migrationTableName: "fleetledger_migrations",
      migrationLockTableName: "fleetledger_migrations_lock",
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    expect((await migrator.migrateTo("007_telemetry")).error).toBeUndefined();
    const db = database.db;
    await createOrganization(db, "acme");
    const sys = await createSystem(db, "acme", "fw-1");
    const data = JSON.stringify(doc("9.3"));
    await sql`insert into inventory_records (system_id, received_at, data, data_hash, data_size, processed_at)
      values (${sys.id}, '2026-11-01T10:00:00.000Z', ${data}, 'h1', ${data.length}, '2026-11-01T10:00:01.000Z')`.execute(
      db,
    );

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const latest = await latestRecord(db, sys.id);
    expect(latest).toMatchObject({ data_hash: "h1", data });
    const columns = await sql<{ data?: unknown }>`select * from inventory_records`.execute(db);
    expect(columns.rows[0]).not.toHaveProperty("data");
    // The body goes with its record.
    await db.deleteFrom("inventory_records").execute();
    expect(await db.selectFrom("inventory_documents").selectAll().execute()).toEqual([]);
  });
});

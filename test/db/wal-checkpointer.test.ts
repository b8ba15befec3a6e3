import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { migrate, openDatabase } from "../../src/db/connect.js";
import { startWalCheckpointer } from "../../src/db/wal-checkpointer.js";

describe("WAL checkpoint thread", () => {
  it("copies committed pages into the database file while the writer no longer checkpoints every 1,000 pages", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-wal-"));
    const file = join(dir, "fleetledger.db");
    const database = await openDatabase(`sqlite:${file}`);
    try {
      await migrate(database);
      const db = database.db;
      const checkpointer = await startWalCheckpointer(db, file, pino({ level: "silent" }), 20);
      const pages = async () =>
        (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db)).rows[0]?.wal_autocheckpoint;
      expect(await pages()).toBe(10_000);
      const sizeBefore = statSync(file).size;
      for (let i = 0; i < 50; i++) {
        await db
          .insertInto("jobs")
          .values({
            queue: "q",
            payload: "x".repeat(10_000),
            state: "pending",
            attempts: 0,
            max_attempts: 1,
            run_at: "2026-11-23T00:00:00.000Z",
            created_at: "2026-11-23T00:00:00.000Z",
          })
          .execute();
      }
      const deadline = Date.now() + 5_000;
      while (statSync(file).size < sizeBefore + 500_000 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(statSync(file).size).toBeGreaterThan(sizeBefore + 500_000);
      await checkpointer.close();
      expect(await pages()).toBe(1_000);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

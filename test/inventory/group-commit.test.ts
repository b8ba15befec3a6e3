import { afterEach, describe, expect, it } from "vitest";
import { IngestBatcher, prepareDocument } from "../../src/inventory/ingest.js";
import { listDiffs, listRecords } from "../../src/inventory/store.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import { createTestEnv, DIALECTS, type TestEnv } from "../helpers/env.js";

describe.each(DIALECTS)("group commit on %s", (dialect) => {
  let env: TestEnv;
  afterEach(async () => env?.cleanup());

  const setup = async () => {
    env = await createTestEnv(dialect);
    const db = env.ctx.database.db;
    await createOrganization(db, "acme");
    const systems = await Promise.all([0, 1, 2].map((i) => createSystem(db, "acme", `fw-${i}`)));
    const deps = { db, dialect: env.ctx.database.dialect, queue: env.ctx.queue };
    return { db, deps, systems };
  };

  it("writes documents that arrive together in one transaction, in order, and queues one diff job for them", async () => {
    const { db, deps, systems } = await setup();
    const batcher = new IngestBatcher(deps, 256);
    const at = new Date(Date.UTC(2026, 10, 1, 10));
    const submitted = [];
    for (let version = 0; version < 10; version++) {
      for (const system of systems) {
        submitted.push(batcher.submit(prepareDocument(system.id, { version, name: system.id }, at)));
      }
    }
    // The same payload twice in a row within the batch: the second follows the first and is a duplicate.
    const first = systems[0]?.id as string;
    submitted.push(batcher.submit(prepareDocument(first, { version: 9, name: first }, at)));
    const results = await Promise.all(submitted);

    expect(results.filter((r) => r.duplicate)).toHaveLength(1);
    expect(results.at(-1)?.id).toBe(results.at(-4)?.id);
    const jobs = await db.selectFrom("jobs").select("payload").execute();
    expect(jobs).toHaveLength(1);
    expect((JSON.parse(jobs[0]?.payload as string) as { record_ids: number[] }).record_ids).toHaveLength(30);

    // Back-pressure counts the 30 documents waiting to be diffed, not the single job that carries them.
    expect(env.ctx.queue.pendingEstimate()).toBe(30);
    expect(await db.selectFrom("jobs").select("weight").executeTakeFirst()).toEqual({ weight: 30 });

    await env.ctx.queue.drain();
    expect(env.ctx.queue.pendingEstimate()).toBe(0);
    for (const system of systems) {
      expect(await listRecords(db, system.id, 100, 0)).toHaveLength(10);
      const diffs = await listDiffs(db, system.id, { limit: 100, offset: 0 });
      expect(diffs.map((d) => [d.field_path, d.previous_value, d.current_value]).sort()).toEqual(
        Array.from({ length: 9 }, (_, v) => ["version", v, v + 1]).sort(),
      );
    }
  });

  it("fails only the document that cannot be stored, not the others of its batch", async () => {
    const { db, deps, systems } = await setup();
    const batcher = new IngestBatcher(deps, 256);
    const at = new Date(Date.UTC(2026, 10, 1, 10));
    const outcomes = await Promise.allSettled([
      batcher.submit(prepareDocument(systems[0]?.id as string, { a: 1 }, at)),
      batcher.submit(prepareDocument("no-such-system", { a: 1 }, at)),
      batcher.submit(prepareDocument(systems[1]?.id as string, { a: 2 }, at)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await listRecords(db, systems[0]?.id as string, 10, 0)).toHaveLength(1);
    expect(await listRecords(db, systems[1]?.id as string, 10, 0)).toHaveLength(1);
  });
});

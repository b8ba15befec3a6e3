import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listAlerts } from "../../src/alerts/store.js";
import { importHistory, readImportFile } from "../../src/inventory/import.js";
import { ingestDocument } from "../../src/inventory/ingest.js";
import { processRecord } from "../../src/inventory/process.js";
import { pruneRecords } from "../../src/inventory/retention-job.js";
import { DEFAULT_RETENTION_TIERS } from "../../src/inventory/retention.js";
import { listDiffs, listRecords } from "../../src/inventory/store.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import { createTestEnv, DIALECTS, type TestEnv } from "../helpers/env.js";

const docA = { facts: { distro: { name: "rocky", version: "9.3" }, modules: [{ id: "nextcloud1", version: "1.0" }] } };
const docB = { facts: { distro: { name: "rocky", version: "9.4" }, modules: [{ id: "nextcloud1", version: "1.0" }] } };

describe.each(DIALECTS)("inventory pipeline on %s", (dialect) => {
  let env: TestEnv;
  afterEach(async () => env?.cleanup());

  const setup = async () => {
    env = await createTestEnv(dialect);
    const db = env.ctx.database.db;
    await createOrganization(db, "acme");
    const sys = await createSystem(db, "acme", "fw-1");
    const other = await createSystem(db, "acme", "fw-2");
    const deps = { db, dialect: env.ctx.database.dialect, queue: env.ctx.queue };
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 10, minute));
    return { db, deps, sys, other, at };
  };

  it("dedups by canonical JSON: key order and formatting do not make a new record", async () => {
    const { db, deps, sys, at } = await setup();
    const first = await ingestDocument(deps, sys.id, { b: 1, a: { y: 2, x: 1 } }, at(0));
    const again = await ingestDocument(deps, sys.id, { a: { x: 1, y: 2 }, b: 1 }, at(1));
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ id: first.id, duplicate: true, size: first.size });
    expect(await listRecords(db, sys.id, 10, 0)).toHaveLength(1);
  });

  it("diffs, classifies and alerts; a revert is diffed; a resend creates no diff twice", async () => {
    const { db, deps, sys, at } = await setup();
    await ingestDocument(deps, sys.id, docA, at(0));
    const b = await ingestDocument(deps, sys.id, docB, at(1));
    const resend = await ingestDocument(deps, sys.id, docB, at(2));
    const back = await ingestDocument(deps, sys.id, docA, at(3));
    expect(resend.duplicate).toBe(true);
    expect(back.duplicate).toBe(false);
    expect(await env.ctx.queue.drain()).toBe(3);

    const diffs = await listDiffs(db, sys.id, { limit: 100, offset: 0 });
    expect(diffs.map((d) => [d.record_id, d.field_path, d.change_type, d.previous_value, d.current_value])).toEqual([
      [back.id, "facts.distro.version", "update", "9.4", "9.3"],
      [b.id, "facts.distro.version", "update", "9.3", "9.4"],
    ]);
    expect(diffs[1]).toMatchObject({ category: "os", severity: "high", significant: true });

    const records = await listRecords(db, sys.id, 10, 0);
    expect(records.map((r) => r.change_count)).toEqual([1, 1, 0]);

    // Running a finished job again writes nothing.
    await processRecord({ db, dialect: env.ctx.database.dialect, rules: env.ctx.rules, changeAlertMinutes: 60 }, b.id);
    expect(await listDiffs(db, sys.id, { limit: 100, offset: 0 })).toHaveLength(2);

    const alerts = await listAlerts(db, { limit: 10, offset: 0 }, at(4));
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toMatchObject({
      status: "firing",
      starts_at: at(3).toISOString(),
      labels: { alertname: "InventoryChanged", severity: "high", system_key: sys.system_key, system_name: "fw-1" },
    });
  });

  it("names identity-matched array elements and filters diffs", async () => {
    const { db, deps, sys, at } = await setup();
    const mods = (ids: string[]) => ({ facts: { modules: ids.map((id) => ({ id, version: "1" })) } });
    await ingestDocument(deps, sys.id, mods(["a1", "b1", "c1"]), at(0));
    await ingestDocument(deps, sys.id, mods(["a1", "c1"]), at(1));
    await env.ctx.queue.drain();
    const diffs = await listDiffs(db, sys.id, { limit: 100, offset: 0 });
    expect(diffs.map((d) => [d.field_path, d.change_type, d.previous_value])).toEqual([
      ["facts.modules.b1", "delete", { id: "b1", version: "1" }],
    ]);
    expect(diffs[0]).toMatchObject({ category: "modules", severity: "high", significant: true });
    expect(await listDiffs(db, sys.id, { severity: "low", limit: 10, offset: 0 })).toEqual([]);
    expect(await listDiffs(db, sys.id, { category: "modules", limit: 10, offset: 0 })).toHaveLength(1);
    expect(await listDiffs(db, sys.id, { since: at(2).toISOString(), limit: 10, offset: 0 })).toEqual([]);
  });

  it("keeps systems apart", async () => {
    const { db, deps, sys, other, at } = await setup();
    await ingestDocument(deps, sys.id, docA, at(0));
    const o = await ingestDocument(deps, other.id, docA, at(1));
    expect(o.duplicate).toBe(false);
    await ingestDocument(deps, other.id, docB, at(2));
    await env.ctx.queue.drain();
    expect(await listDiffs(db, sys.id, { limit: 10, offset: 0 })).toEqual([]);
    expect(await listDiffs(db, other.id, { limit: 10, offset: 0 })).toHaveLength(1);
  });

  it("imports history in time order and prunes with first and latest kept", async () => {
    const { db, deps, sys } = await setup();
    const dir = mkdtempSync(join(tmpdir(), "fl-import-"));
    const file = join(dir, "history.jsonl");
    const start = Date.UTC(2025, 0, 1);
    const lines: string[] = [];
    // One document per day for 400 days, written newest first to prove the import sorts by time.
    for (let day = 399; day >= 0; day--) {
      lines.push(
        JSON.stringify({
          system_key: sys.system_key,
          received_at: new Date(start + day * 86_400_000).toISOString(),
          data: { facts: { counter: day } },
        }),
      );
    }
    lines.push(
      JSON.stringify({
        system_key: sys.system_key,
        received_at: new Date(start).toISOString(),
        data: { facts: { counter: 0 } },
      }),
    );
    writeFileSync(file, `${lines.join("\n")}\n`);
    const result = await importHistory(deps, await readImportFile(file));
    expect(result).toEqual({ records: 400, duplicates: 1 });
    // 401 lines in slices of 256, the first holding the duplicate: two diff jobs standing for the 400 records.
    expect(await db.selectFrom("jobs").select("weight").orderBy("id").execute()).toEqual([
      { weight: 255 },
      { weight: 145 },
    ]);
    expect(await env.ctx.queue.drain()).toBe(400);
    const diffs = await listDiffs(db, sys.id, { limit: 1000, offset: 0 });
    expect(diffs).toHaveLength(399);
    expect(diffs.at(-1)).toMatchObject({ field_path: "facts.counter", previous_value: 0, current_value: 1 });

    const now = new Date(start + 400 * 86_400_000);
    const dry = await pruneRecords(db, { now, tiers: DEFAULT_RETENTION_TIERS, batchSize: 50, dryRun: true });
    expect(dry.kept.length + dry.deleted.length).toBe(400);
    expect((await listRecords(db, sys.id, 1000, 0)).length).toBe(400);
    const real = await pruneRecords(db, { now, tiers: DEFAULT_RETENTION_TIERS, batchSize: 50, dryRun: false });
    expect(real).toEqual(dry);
    const left = (await listRecords(db, sys.id, 1000, 0)).map((r) => r.id);
    expect(left.sort((a, b) => a - b)).toEqual(dry.kept);
    const all = [...dry.kept, ...dry.deleted].sort((a, b) => a - b);
    expect(dry.kept).toContain(all[0]);
    expect(dry.kept).toContain(all.at(-1));
    // 7 daily (≤7 d) + days 7–30 one each + weeks + months + quarters: far fewer than 400.
    expect(dry.kept.length).toBeGreaterThan(30);
    expect(dry.kept.length).toBeLessThan(60);
    // Diffs are never deleted by retention.
    expect(await listDiffs(db, sys.id, { limit: 1000, offset: 0 })).toHaveLength(399);
  });

  it("leaves a system with undiffed records alone", async () => {
    const { db, deps, sys, at } = await setup();
    for (let i = 0; i < 5; i++)
      await ingestDocument(deps, sys.id, { n: i }, new Date(at(0).getTime() - (100 - i) * 86_400_000));
    const result = await pruneRecords(db, { now: at(0), tiers: DEFAULT_RETENTION_TIERS, batchSize: 10, dryRun: false });
    expect(result.deleted).toEqual([]);
    expect(result.kept).toHaveLength(5);
  });
});

import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Batch, Spool } from "../../src/agent/spool.js";
import { tempDir } from "./helpers.js";

const batch = (n: number, padding = 0): Batch => ({
  payload: {
    metrics: [{ timestamp: 1714644930 + n, metric_name: "cpu_usage_percent", value: n, labels: null }],
    logs: padding
      ? [{ log_source: "file:x", log_timestamp: 1714644930, content: "x".repeat(padding), severity: null }]
      : [],
    hw_hash: null,
  },
  cursors: { "file:x": String(n) },
  created_at: 1714644930 + n,
});

const oldestBatch = (spool: Spool) => {
  const next = spool.oldest();
  if (!next || "corrupt" in next) throw new Error("no batch");
  return next;
};

describe("spool", () => {
  const dirs: { remove(): void }[] = [];
  const dir = () => {
    const d = tempDir("fleetledger-spool-");
    dirs.push(d);
    return join(d.dir, "spool");
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  it("keeps batches in order across a restart (it is on disk)", () => {
    const path = dir();
    const spool = new Spool(path, 1_000_000);
    for (let n = 1; n <= 3; n++) expect(spool.add(batch(n))).toBe(0);
    const reopened = new Spool(path, 1_000_000);
    expect(reopened.count).toBe(3);
    expect(reopened.newestCursors()).toEqual({ "file:x": "3" });
    const order: number[] = [];
    for (let i = 0; i < 2; i++) {
      const next = oldestBatch(reopened);
      order.push(next.batch.payload.metrics[0]?.value as number);
      reopened.remove(next.id);
    }
    expect(order).toEqual([1, 2]);
    // A batch added after another restart sorts after the one still waiting.
    const again = new Spool(path, 1_000_000);
    again.add(batch(4));
    expect(readdirSync(path)).toEqual(["0000000000000003.json", "0000000000000004.json"]);
    expect(oldestBatch(again).batch.created_at).toBe(1714644933);
  });

  it("drops the oldest batches beyond max_bytes and says how many", () => {
    const spool = new Spool(dir(), 3 * 1500);
    expect(spool.add(batch(1, 1000))).toBe(0);
    expect(spool.add(batch(2, 1000))).toBe(0);
    expect(spool.add(batch(3, 1000))).toBe(0);
    expect(spool.add(batch(4, 1000))).toBe(1);
    expect(spool.add(batch(5, 3000))).toBe(3);
    expect(spool.count).toBe(1);
    expect(oldestBatch(spool).batch.created_at).toBe(1714644935);
    expect(spool.size).toBeLessThanOrEqual(4500);
  });

  it("drops even the new batch when it alone is larger than the bound", () => {
    const spool = new Spool(dir(), 2000);
    expect(spool.add(batch(1, 5000))).toBe(1);
    expect(spool.count).toBe(0);
    expect(spool.size).toBe(0);
  });

  it("reports an unreadable file instead of failing, and ignores foreign files", () => {
    const path = dir();
    const spool = new Spool(path, 1_000_000);
    spool.add(batch(1));
    writeFileSync(join(path, "0000000000000001.json"), "{truncated");
    writeFileSync(join(path, "notes.txt"), "not a batch");
    const reopened = new Spool(path, 1_000_000);
    expect(reopened.count).toBe(1);
    expect(reopened.oldest()).toMatchObject({ id: "0000000000000001.json", corrupt: expect.stringContaining("JSON") });
  });
});

import { describe, expect, it } from "vitest";
import { runVsphereBench } from "../../bench/vsphere.js";

describe("vsphere bench", () => {
  it("times a small snapshot and both rollups on SQLite, and ours writes the limit's rows", async () => {
    const result = await runVsphereBench({ vms: 20, rollupVms: 200, days: 2, runs: 1 });

    expect(result.config).toMatchObject({ vms: 20, rollup_vms: 200, days: 2, runs: 1 });
    expect(result.skipped).toEqual(["PostgreSQL rollups skipped: no --pg URL given"]);

    const snapshot = result.snapshot;
    expect(snapshot?.ours.rows).toBe(20);
    expect(snapshot?.baseline.vms).toBe(20);
    expect(snapshot?.ours.round_trips).toBeGreaterThan(0);
    expect(Number.isFinite(snapshot?.ratio_best)).toBe(true);

    expect(result.rollups.map((r) => r.dialect)).toEqual(["sqlite"]);
    const [sqlite] = result.rollups;
    for (const c of [sqlite?.daily, sqlite?.monthly]) {
      expect(c?.rows_ours).toBe(200);
      expect(c?.rows_limit).toBe(c?.rows_ours);
      expect(c?.matched_rows).toBe(c?.rows_ours);
      expect(c?.input_rows).toBeGreaterThan(200);
      for (const ratio of [c?.ratio_best, c?.ratio_median, c?.ratio_best_cpu]) {
        expect(Number.isFinite(ratio)).toBe(true);
      }
    }
    // One speed target for the snapshot, per rollup a speed and an equality target, plus daily-on-SQLite seconds.
    expect(result.targets).toHaveLength(6);
    expect(result.targets.filter((t) => t.name.includes("writes the limit's rows")).every((t) => t.pass)).toBe(true);
  }, 120_000);
});

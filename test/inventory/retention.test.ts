import { describe, expect, it } from "vitest";
import { DEFAULT_RETENTION_TIERS, planRetention } from "../../src/inventory/retention.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe("planRetention", () => {
  it("has the documented default tiers", () => {
    expect(DEFAULT_RETENTION_TIERS).toEqual([
      { max_age_days: 7, keep: "all" },
      { max_age_days: 30, keep: "day" },
      { max_age_days: 90, keep: "week" },
      { max_age_days: 365, keep: "month" },
      { max_age_days: null, keep: "quarter" },
    ]);
  });

  it("keeps the last record of each bucket, per tier (hand-checked)", () => {
    const now = new Date("2025-07-01T12:00:00Z");
    const records = [
      { id: 13, received_at: "2025-07-02T00:00:00Z" }, // future: kept
      { id: 2, received_at: "2024-02-20T00:00:00Z" }, // quarter 2024-Q1, not last
      { id: 1, received_at: "2024-01-10T00:00:00Z" }, // earliest: kept
      { id: 3, received_at: "2024-03-05T00:00:00Z" }, // last of 2024-Q1
      { id: 4, received_at: "2025-02-03T10:00:00Z" }, // month 2025-02, not last
      { id: 5, received_at: "2025-02-20T10:00:00Z" }, // last of 2025-02
      { id: 6, received_at: "2025-05-01T00:00:00Z" }, // week of 2025-04-28, not last
      { id: 7, received_at: "2025-05-03T00:00:00Z" }, // last of that week
      { id: 8, received_at: "2025-06-10T08:00:00Z" }, // day 2025-06-10, not last
      { id: 10, received_at: "2025-06-10T20:00:00Z" }, // same time as 9, higher id wins
      { id: 9, received_at: "2025-06-10T20:00:00Z" },
      { id: 11, received_at: "2025-06-28T00:00:00Z" }, // all
      { id: 12, received_at: "2025-06-29T00:00:00Z" }, // all
      { id: 14, received_at: "2025-06-24T12:00:00Z" }, // exactly 7 days: all
      { id: 15, received_at: "2025-06-24T11:00:00Z" }, // day tier, same UTC day as 14 but its own bucket
      { id: 16, received_at: "2025-06-24T10:00:00Z" }, // day tier, not last
      { id: 17, received_at: "2025-04-02T13:00:00Z" }, // week tier (89.96 days)
      { id: 18, received_at: "2025-04-02T11:00:00Z" }, // month tier (90.04 days), last of 2025-04 there
      { id: 19, received_at: "2025-04-01T00:00:00Z" }, // month tier 2025-04, not last
    ];
    expect(planRetention(records, now)).toEqual({
      keep: [1, 3, 5, 7, 10, 11, 12, 13, 14, 15, 17, 18],
      delete: [2, 4, 6, 8, 9, 16, 19],
    });
  });

  it("always keeps the first and latest records, even beyond every tier", () => {
    const now = new Date("2025-07-01T00:00:00Z");
    const records = [4, 3, 2, 1].map((id) => ({
      id,
      received_at: new Date(now.getTime() - (100 - id) * DAY_MS).toISOString(),
    }));
    const tiers = [
      { max_age_days: 7, keep: "all" as const },
      { max_age_days: 30, keep: "day" as const },
    ];
    expect(planRetention(records, now, tiers)).toEqual({ keep: [1, 4], delete: [2, 3] });
  });

  it("handles an empty history", () => {
    expect(planRetention([], new Date())).toEqual({ keep: [], delete: [] });
  });

  it("rejects unparseable timestamps", () => {
    expect(() => planRetention([{ id: 5, received_at: "yesterday" }], new Date())).toThrow(
      'record 5: invalid received_at "yesterday"',
    );
  });

  it("thins a year and a half of hourly records tier by tier", () => {
    const now = new Date("2025-07-01T00:00:00Z");
    const hours = 548 * 24;
    // Shuffled deterministically so the plan cannot depend on input order.
    const records = Array.from({ length: hours + 1 }, (_, h) => ({
      id: hours - h + 1,
      received_at: new Date(now.getTime() - h * HOUR_MS).toISOString(),
    })).sort((a, b) => ((a.id * 7919) % 1009) - ((b.id * 7919) % 1009) || a.id - b.id);
    const byId = new Map(records.map((record) => [record.id, Date.parse(record.received_at)]));

    const plan = planRetention(records, now);

    const perTier = [0, 0, 0, 0, 0];
    for (const id of plan.keep) {
      const ageDays = (now.getTime() - (byId.get(id) ?? Number.NaN)) / DAY_MS;
      const tier = [7, 30, 90, 365, Number.POSITIVE_INFINITY].findIndex((limit) => ageDays <= limit);
      perTier[tier] = (perTier[tier] ?? 0) + 1;
    }
    // 169 hours in the last 7 days; days 06-01..06-23; ISO weeks from 03-31 to 05-26;
    // months 2024-07..2025-04; quarters 2023-Q4, 2024-Q1, 2024-Q2 plus the first record.
    expect(perTier).toEqual([169, 23, 9, 10, 4]);
    expect(plan.keep).toHaveLength(215);
    expect(plan.delete).toHaveLength(hours + 1 - 215);
    expect(plan.keep[0]).toBe(1);
    expect(plan.keep.at(-1)).toBe(hours + 1);
    expect([...plan.keep, ...plan.delete].sort((a, b) => a - b)).toEqual(
      Array.from({ length: hours + 1 }, (_, i) => i + 1),
    );

    const keptDays = plan.keep
      .map((id) => new Date(byId.get(id) ?? 0).toISOString())
      .filter((iso) => iso >= "2025-06-01" && iso < "2025-06-24");
    expect(keptDays).toEqual(
      Array.from({ length: 23 }, (_, d) => `2025-06-${String(d + 1).padStart(2, "0")}T23:00:00.000Z`),
    );

    const keptQuarters = plan.keep
      .map((id) => new Date(byId.get(id) ?? 0).toISOString())
      .filter((iso) => iso < "2024-06-30T23:00:01");
    expect(keptQuarters).toEqual([
      "2023-12-31T00:00:00.000Z",
      "2023-12-31T23:00:00.000Z",
      "2024-03-31T23:00:00.000Z",
      "2024-06-30T23:00:00.000Z",
    ]);
  });
});

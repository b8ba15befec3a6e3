import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateAligned, alignToGrid, gridPointCount } from "../../src/telemetry/grid.js";
import type { Grid, Sample } from "../../src/telemetry/rate.js";

const S = 1000;

describe("gridPointCount", () => {
  it("counts start, start + step, … up to and including end", () => {
    expect(gridPointCount({ start: 0, end: 600 * S, step: 60 * S })).toBe(11);
    expect(gridPointCount({ start: 0, end: 659 * S, step: 60 * S })).toBe(11);
    expect(gridPointCount({ start: 5, end: 5, step: 1 })).toBe(1);
    expect(gridPointCount({ start: 6, end: 5, step: 1 })).toBe(0);
    // 90 days at a 3,888 s step is the 2,000-point chart.
    expect(gridPointCount({ start: 0, end: 90 * 86_400 * S - 1, step: 3_888 * S })).toBe(2_000);
  });

  it("rejects a step that is not positive", () => {
    expect(() => gridPointCount({ start: 0, end: 1, step: 0 })).toThrow(RangeError);
  });
});

describe("alignToGrid", () => {
  const samples: Sample[] = [
    { t: 10 * S, v: 1 },
    { t: 70 * S, v: 2 },
    { t: 75 * S, v: 3 },
    { t: 400 * S, v: 4 },
  ];

  it("takes the last sample in (t − lookback, t] at every grid point", () => {
    const grid: Grid = { start: 0, end: 480 * S, step: 60 * S };
    expect(alignToGrid(samples, grid, 300 * S).map((p) => [p.t / S, p.v])).toEqual([
      [60, 1],
      [120, 3],
      [180, 3],
      [240, 3],
      [300, 3],
      [360, 3],
      [420, 4],
      [480, 4],
    ]);
  });

  it("leaves a sample exactly lookback old out and takes one exactly at t", () => {
    // At 375 s the sample at 75 s is exactly 300 s old: excluded, and nothing newer exists until 400 s.
    expect(alignToGrid(samples, { start: 375 * S, end: 400 * S, step: 25 * S }, 300 * S)).toEqual([
      { t: 400 * S, v: 4 },
    ]);
    expect(alignToGrid(samples, { start: 75 * S, end: 75 * S, step: 1 }, 300 * S)).toEqual([{ t: 75 * S, v: 3 }]);
  });

  it("gives nothing for no samples or an empty grid", () => {
    expect(alignToGrid([], { start: 0, end: 600 * S, step: 60 * S }, 300 * S)).toEqual([]);
    expect(alignToGrid(samples, { start: 600 * S, end: 0, step: 60 * S }, 300 * S)).toEqual([]);
  });

  it("equals a per-point scan for any samples and grid", () => {
    const sortedSamples = fc
      .uniqueArray(fc.integer({ min: 0, max: 100_000 }), { maxLength: 60 })
      .map((ts) => ts.sort((a, b) => a - b).map((t, i) => ({ t, v: i })));
    fc.assert(
      fc.property(
        sortedSamples,
        fc.integer({ min: -5_000, max: 100_000 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 30_000 }),
        (all, start, points, step, lookback) => {
          const grid: Grid = { start, end: start + (points - 1) * step, step };
          const expected: Sample[] = [];
          for (let t = start; t <= grid.end; t += step) {
            const last = all.filter((s) => s.t > t - lookback && s.t <= t).at(-1);
            if (last) expected.push({ t, v: last.v });
          }
          expect(alignToGrid(all, grid, lookback)).toEqual(expected);
        },
      ),
    );
  });
});

describe("aggregateAligned", () => {
  const a: Sample[] = [
    { t: 60, v: 1 },
    { t: 120, v: 4 },
  ];
  const b: Sample[] = [
    { t: 0, v: 10 },
    { t: 120, v: 2 },
  ];
  const c: Sample[] = [{ t: 120, v: 6 }];

  it("combines the points that share a timestamp, sorted by time", () => {
    expect(aggregateAligned([a, b, c], "sum")).toEqual([
      { t: 0, v: 10 },
      { t: 60, v: 1 },
      { t: 120, v: 12 },
    ]);
    expect(aggregateAligned([a, b, c], "avg")).toEqual([
      { t: 0, v: 10 },
      { t: 60, v: 1 },
      { t: 120, v: 4 },
    ]);
    expect(aggregateAligned([a, b, c], "min").map((p) => p.v)).toEqual([10, 1, 2]);
    expect(aggregateAligned([a, b, c], "max").map((p) => p.v)).toEqual([10, 1, 6]);
  });

  it("gives nothing for no series", () => {
    expect(aggregateAligned([], "sum")).toEqual([]);
    expect(aggregateAligned([[], []], "max")).toEqual([]);
  });

  it("keeps small rates added to a huge one (compensated sum)", () => {
    const huge = [{ t: 0, v: 1e16 }];
    const ones = Array.from({ length: 10 }, () => [{ t: 0, v: 1 }]);
    const negHuge = [{ t: 0, v: -1e16 }];
    // Naive left-to-right addition gives 0: each 1 is lost against 1e16.
    expect(aggregateAligned([huge, ...ones, negHuge], "sum")).toEqual([{ t: 0, v: 10 }]);
    expect(aggregateAligned([huge, ...ones, negHuge], "avg")).toEqual([{ t: 0, v: 10 / 12 }]);
  });
});

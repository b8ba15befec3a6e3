import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateAligned } from "../../src/telemetry/grid.js";
import { type Grid, rangeFunction, type Sample } from "../../src/telemetry/rate.js";

const S = 1000;
const MIN5 = 300 * S;

/** A counter sampled every 30 s from t = 0: value base + i·perSample. */
function counter(base: number, perSample: number, count: number): Sample[] {
  return Array.from({ length: count }, (_, i) => ({ t: i * 30 * S, v: base + i * perSample }));
}

const at = (t: number): Grid => ({ start: t, end: t, step: 1 });

describe("rangeFunction: the spec's public check values", () => {
  const grid: Grid = { start: 300 * S, end: 900 * S, step: 60 * S };

  it("rx = 1,000,000 + i·300,000 every 30 s is 10,000 B/s at every point", () => {
    const rate = rangeFunction("rate", counter(1_000_000, 300_000, 31), grid, MIN5);
    expect(rate).toEqual([300, 360, 420, 480, 540, 600, 660, 720, 780, 840, 900].map((s) => ({ t: s * S, v: 10_000 })));
  });

  it("rx + tx (tx = 500,000 + i·150,000) sums to 15,000 B/s", () => {
    const rx = rangeFunction("rate", counter(1_000_000, 300_000, 31), grid, MIN5);
    const tx = rangeFunction("rate", counter(500_000, 150_000, 31), grid, MIN5);
    const sum = aggregateAligned([rx, tx], "sum");
    expect(sum).toHaveLength(11);
    for (const p of sum) expect(p.v).toBe(15_000);
  });

  it("disk counters 18e12 + 100e6 B/s and 9e12 + 50e6 B/s sum to exactly 150,000,000 B/s", () => {
    const a = rangeFunction("rate", counter(18e12, 100e6 * 30, 31), grid, MIN5);
    const b = rangeFunction("rate", counter(9e12, 50e6 * 30, 31), grid, MIN5);
    for (const p of a) expect(p.v).toBe(100_000_000);
    for (const p of b) expect(p.v).toBe(50_000_000);
    const sum = aggregateAligned([a, b], "sum");
    expect(sum.map((p) => p.v)).toEqual(Array(11).fill(150_000_000));
  });

  it("increase is rate × window: 3,000,000 B over 5 minutes", () => {
    const increase = rangeFunction("increase", counter(1_000_000, 300_000, 31), at(600 * S), MIN5);
    expect(increase).toEqual([{ t: 600 * S, v: 3_000_000 }]);
  });
});

describe("rangeFunction: extrapolation", () => {
  it("a series starting inside the window is extrapolated by half an interval only", () => {
    // Samples at 0, 30, 60 s; window (−240 s, 60 s]. Raw increase 600,000 over 60 s, start edge 240 s away
    // (≥ 1.1 × 30 s) so only 15 s are added: 600,000 × 75/60 = 750,000.
    const samples = counter(1_000_000, 300_000, 3);
    expect(rangeFunction("increase", samples, at(60 * S), MIN5)).toEqual([{ t: 60 * S, v: 750_000 }]);
    expect(rangeFunction("rate", samples, at(60 * S), MIN5)).toEqual([{ t: 60 * S, v: 2_500 }]);
  });

  it("a series ending inside the window is extrapolated by half an interval at the end", () => {
    // 0, 30, 60, 90 s with values 0, 30, 60, 90 at point 200 s: start extrapolation is cut to the zero point
    // (the counter was 0 at t = 0), the end gets 15 s: 90 × 105/90 = 105.
    const samples = counter(0, 30, 4);
    expect(rangeFunction("increase", samples, at(200 * S), MIN5)).toEqual([{ t: 200 * S, v: 105 }]);
    expect(rangeFunction("rate", samples, at(200 * S), MIN5)).toEqual([{ t: 200 * S, v: 0.35 }]);
  });

  it("never extrapolates back past the counter's zero point", () => {
    // 10, 40, 70 at 0, 30, 60 s: the counter was zero 10 s before the first sample, which is nearer than the 15 s
    // half-interval, so the increase is 60 × 70/60 = 70 — the value at the window's end.
    const samples = counter(10, 30, 3);
    expect(rangeFunction("increase", samples, at(60 * S), MIN5)).toEqual([{ t: 60 * S, v: 70 }]);
  });

  it("extrapolates fully to an edge nearer than 110% of the average interval, by half an interval otherwise", () => {
    // Samples at 33 s and 63 s: average interval 30 s, threshold 33 s (exactly, in binary as well).
    const samples = [
      { t: 33 * S, v: 1_000 },
      { t: 63 * S, v: 1_030 },
    ];
    // Window (1 ms, 63 s]: start edge 32.999 s away → all of it: 30 × (30 + 32.999)/30.
    expect(rangeFunction("increase", samples, at(63 * S), 63 * S - 1)).toEqual([{ t: 63 * S, v: 62.999 }]);
    // Window (0, 63 s]: 33 s away is not nearer than the threshold → 15 s: 30 × 45/30.
    expect(rangeFunction("increase", samples, at(63 * S), 63 * S)).toEqual([{ t: 63 * S, v: 45 }]);
    // Window (−1 s, 64 s]: 34 s at the start → 15 s; 1 s at the end → all of it: 30 × (30 + 15 + 1)/30.
    expect(rangeFunction("increase", samples, at(64 * S), 65 * S)).toEqual([{ t: 64 * S, v: 46 }]);
  });
});

describe("rangeFunction: counter resets", () => {
  // 100, 200, 300, then the counter restarts: 50, 150.
  const samples = [100, 200, 300, 50, 150].map((v, i) => ({ t: i * 30 * S, v }));

  it("adds back the value before a drop and extrapolates the corrected increase", () => {
    // Increase 150 − 100 + 300 = 350 over 120 s; start edge 180 s away → +15 s: 350 × 135/120 = 393.75.
    expect(rangeFunction("increase", samples, at(120 * S), MIN5)).toEqual([{ t: 120 * S, v: 393.75 }]);
    expect(rangeFunction("rate", samples, at(120 * S), MIN5)).toEqual([{ t: 120 * S, v: 1.3125 }]);
  });

  it("forgets a reset once it leaves the window", () => {
    // (60 s, 360 s] holds 50 at 90 s and 150 at 120 s: no reset inside, increase 100 over 30 s. The start edge is
    // 30 s away, but the counter was zero 15 s before its first sample (50 at 100 per 30 s), so only 15 s are
    // added; the end edge is 240 s away → +15 s: 100 × 60/30 = 200. (90 s, 390 s] holds one sample: no point.
    expect(rangeFunction("increase", samples, { start: 360 * S, end: 390 * S, step: 30 * S }, MIN5)).toEqual([
      { t: 360 * S, v: 200 },
    ]);
  });

  it("counts several resets in one window", () => {
    const saw = [10, 20, 5, 15, 3, 13].map((v, i) => ({ t: i * 10 * S, v }));
    // 13 − 10 + 20 + 15 = 38 over 50 s; start edge 10 s + 1 ms away (window 60.001 s) is within 11 s → full;
    // the zero point 50 × 10/38 s back is further. 38 × 60.001/50.
    expect(rangeFunction("increase", saw, at(50 * S), 60 * S + 1)).toEqual([{ t: 50 * S, v: (38 * 60_001) / 50_000 }]);
  });

  it("irate after a reset is the new value over the gap", () => {
    expect(rangeFunction("irate", samples, at(90 * S), MIN5)).toEqual([{ t: 90 * S, v: 50 / 30 }]);
    expect(rangeFunction("irate", samples, at(120 * S), MIN5)).toEqual([{ t: 120 * S, v: 100 / 30 }]);
  });
});

describe("rangeFunction: window boundaries and gaps", () => {
  const samples = [
    { t: 0, v: 0 },
    { t: 100 * S, v: 150 },
    { t: 300 * S, v: 300 },
  ];

  it("excludes a sample exactly at t − W (left-open window)", () => {
    // (0, 300 s] holds 150 and 300: increase 150 over 200 s, start 100 s away → full: 150 × 300/200 = 225.
    // With the sample at 0 included it would be 300.
    expect(rangeFunction("increase", samples, at(300 * S), MIN5)).toEqual([{ t: 300 * S, v: 225 }]);
  });

  it("includes a sample exactly at t (right-closed window)", () => {
    expect(rangeFunction("irate", samples, at(300 * S), MIN5)).toEqual([{ t: 300 * S, v: 0.75 }]);
    expect(rangeFunction("irate", samples, at(300 * S - 1), MIN5)).toEqual([{ t: 300 * S - 1, v: 1.5 }]);
  });

  it("leaves out points whose window holds fewer than two samples", () => {
    const gappy = [
      { t: 0, v: 1 },
      { t: 30 * S, v: 2 },
      { t: 1_000 * S, v: 3 },
      { t: 1_030 * S, v: 5 },
    ];
    const grid: Grid = { start: 0, end: 1_200 * S, step: 100 * S };
    expect(rangeFunction("irate", gappy, grid, MIN5).map((p) => [p.t / S, p.v])).toEqual([
      [100, 1 / 30],
      [200, 1 / 30],
      [1100, 2 / 30],
      [1200, 2 / 30],
    ]);
    expect(rangeFunction("rate", [], grid, MIN5)).toEqual([]);
    expect(rangeFunction("rate", [{ t: 50 * S, v: 7 }], grid, MIN5)).toEqual([]);
  });

  it("rejects a non-positive window or step", () => {
    expect(() => rangeFunction("rate", samples, at(0), 0)).toThrow(RangeError);
    expect(() => rangeFunction("rate", samples, { start: 0, end: 1, step: 0 }, MIN5)).toThrow(RangeError);
  });
});

describe("rangeFunction: properties", () => {
  const regularLinear = fc.record({
    intervalMs: fc.integer({ min: 1_000, max: 150_000 }),
    phaseMs: fc.integer({ min: 0, max: 149_999 }),
    slope: fc.double({ min: 0.001, max: 1e9, noNaN: true }),
    startSeconds: fc.integer({ min: 0, max: 1_000_000 }),
  });

  it("a linear counter sampled at a regular interval has rate = irate = slope (window ≥ 2 intervals)", () => {
    fc.assert(
      fc.property(regularLinear, ({ intervalMs, phaseMs, slope, startSeconds }) => {
        const windowMs = Math.max(MIN5, 2 * intervalMs);
        const phase = phaseMs % intervalMs;
        // The grid starts a full window after the first sample, so every window lies inside the sampled span.
        const grid: Grid = {
          start: phase + windowMs + intervalMs,
          end: phase + windowMs + 11 * intervalMs,
          step: 7_000,
        };
        const count = Math.ceil(grid.end / intervalMs) + 2;
        const samples = Array.from({ length: count }, (_, i) => {
          const t = phase + i * intervalMs;
          return { t, v: slope * (startSeconds + t / 1000) };
        });
        for (const fn of ["rate", "irate"] as const) {
          const points = rangeFunction(fn, samples, grid, windowMs);
          expect(points.length).toBe(Math.floor((grid.end - grid.start) / grid.step) + 1);
          for (const p of points) expect(Math.abs(p.v - slope) / slope).toBeLessThan(1e-6);
        }
      }),
    );
  });

  const irregular = fc
    .uniqueArray(fc.integer({ min: 0, max: 3_600_000 }), { minLength: 0, maxLength: 120 })
    .chain((ts) =>
      fc
        .array(fc.double({ min: 0, max: 1e12, noNaN: true }), { minLength: ts.length, maxLength: ts.length })
        .map((vs) => ts.sort((a, b) => a - b).map((t, i) => ({ t, v: vs[i] as number }))),
    );
  const gridArb = fc
    .record({
      start: fc.integer({ min: -600_000, max: 3_600_000 }),
      points: fc.integer({ min: 1, max: 80 }),
      step: fc.integer({ min: 1, max: 400_000 }),
      windowMs: fc.integer({ min: 1, max: 1_800_000 }),
    })
    .map(({ start, points, step, windowMs }) => ({ start, span: (points - 1) * step, step, windowMs }));

  it("the sliding window gives what each window alone gives, for every function", () => {
    fc.assert(
      fc.property(irregular, gridArb, (samples, { start, span, step, windowMs }) => {
        const grid: Grid = { start, end: start + span, step };
        for (const fn of ["rate", "increase", "irate"] as const) {
          const expected: Sample[] = [];
          for (let t = start; t <= grid.end; t += step) {
            const inWindow = samples.filter((s) => s.t > t - windowMs && s.t <= t);
            expected.push(...rangeFunction(fn, inWindow, at(t), windowMs));
            if (inWindow.length >= 2) expect(expected.at(-1)?.t).toBe(t);
          }
          expect(rangeFunction(fn, samples, grid, windowMs)).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("increase = rate × window seconds", () => {
    fc.assert(
      fc.property(irregular, gridArb, (samples, { start, span, step, windowMs }) => {
        const grid: Grid = { start, end: start + span, step };
        const rate = rangeFunction("rate", samples, grid, windowMs);
        const increase = rangeFunction("increase", samples, grid, windowMs);
        expect(increase.map((p) => p.t)).toEqual(rate.map((p) => p.t));
        increase.forEach((p, i) => {
          const r = (rate[i] as Sample).v * (windowMs / 1000);
          expect(Math.abs(p.v - r)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(p.v)));
        });
      }),
      { numRuns: 200 },
    );
  });
});

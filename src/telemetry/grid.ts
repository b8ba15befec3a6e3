/**
 * Placing series on a step grid and combining them point by point, so series sampled at different moments (every
 * agent has its own clock) can be summed or averaged. Pure: no I/O.
 */
import type { Grid, Sample } from "./rate.js";

export type Aggregation = "sum" | "avg" | "min" | "max";

/** Number of grid points: start, start + step, … ≤ end. */
export function gridPointCount(grid: Grid): number {
  if (!(grid.step > 0)) throw new RangeError(`step must be positive, got ${grid.step} ms`);
  if (grid.end < grid.start) return 0;
  return Math.floor((grid.end - grid.start) / grid.step) + 1;
}

/**
 * Prometheus instant-vector selection at every grid point t: the last sample in (t − lookback, t], or no point
 * when that interval holds none. `samples` are sorted by t. One forward pass over the samples.
 */
export function alignToGrid(samples: readonly Sample[], grid: Grid, lookbackMs: number): Sample[] {
  if (!(lookbackMs > 0)) throw new RangeError(`lookback must be positive, got ${lookbackMs} ms`);
  const count = gridPointCount(grid);
  const out: Sample[] = [];
  let afterLast = 0;
  for (let i = 0; i < count; i++) {
    const point = grid.start + i * grid.step;
    while (afterLast < samples.length && (samples[afterLast] as Sample).t <= point) afterLast++;
    const last = samples[afterLast - 1];
    if (last !== undefined && last.t > point - lookbackMs) out.push({ t: point, v: last.v });
  }
  return out;
}

interface Accumulator {
  sum: number;
  compensation: number;
  count: number;
  min: number;
  max: number;
}

/**
 * Combines the points of several series that share a timestamp (series already aligned on one grid); a timestamp
 * present in only some series combines those. Sums use Neumaier compensation, so adding large counters' rates to
 * small ones loses nothing the inputs did not already lose. Result sorted by t.
 */
export function aggregateAligned(series: readonly (readonly Sample[])[], agg: Aggregation): Sample[] {
  const byTime = new Map<number, Accumulator>();
  for (const points of series) {
    for (const { t, v } of points) {
      const acc = byTime.get(t);
      if (acc === undefined) {
        byTime.set(t, { sum: v, compensation: 0, count: 1, min: v, max: v });
        continue;
      }
      const total = acc.sum + v;
      acc.compensation += Math.abs(acc.sum) >= Math.abs(v) ? acc.sum - total + v : v - total + acc.sum;
      acc.sum = total;
      acc.count++;
      if (v < acc.min) acc.min = v;
      if (v > acc.max) acc.max = v;
    }
  }
  const out: Sample[] = [];
  for (const [t, acc] of byTime) out.push({ t, v: combine(acc, agg) });
  return out.sort((a, b) => a.t - b.t);
}

function combine(acc: Accumulator, agg: Aggregation): number {
  switch (agg) {
    case "sum":
      return acc.sum + acc.compensation;
    case "avg":
      return (acc.sum + acc.compensation) / acc.count;
    case "min":
      return acc.min;
    case "max":
      return acc.max;
  }
}

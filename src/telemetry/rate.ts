/**
 * Counter rates with Prometheus 3 semantics (`rate`, `increase`, `irate` in promql/functions.go), evaluated on a
 * step grid. The window of a grid point t is (t − W, t]: left-open, right-closed. Pure: no I/O.
 */

/** One sample; `t` is unix milliseconds. */
export interface Sample {
  t: number;
  v: number;
}

/** Evaluation grid in milliseconds: points start, start + step, … up to and including end. */
export interface Grid {
  start: number;
  end: number;
  step: number;
}

export type RangeFunction = "rate" | "increase" | "irate";

/**
 * Evaluates `fn` over `samples` (sorted by t, distinct t) at every grid point whose window holds at least two
 * samples; other grid points are left out, as Prometheus leaves them out of a range query's result.
 * Both window edges only move forward along the grid, so the samples are walked once (two pointers), plus the
 * counter resets that fall inside each window.
 */
export function rangeFunction(fn: RangeFunction, samples: readonly Sample[], grid: Grid, windowMs: number): Sample[] {
  if (!(windowMs > 0)) throw new RangeError(`window must be positive, got ${windowMs} ms`);
  if (!(grid.step > 0)) throw new RangeError(`step must be positive, got ${grid.step} ms`);
  const resets = resetIndices(samples);
  const out: Sample[] = [];
  let first = 0; // first sample with t > point − W
  let afterLast = 0; // first sample with t > point
  let reset = 0; // first entry of `resets` at or after `first + 1`
  for (let point = grid.start; point <= grid.end; point += grid.step) {
    const rangeStart = point - windowMs;
    while (afterLast < samples.length && (samples[afterLast] as Sample).t <= point) afterLast++;
    while (first < afterLast && (samples[first] as Sample).t <= rangeStart) first++;
    while (reset < resets.length && (resets[reset] as number) <= first) reset++;
    const last = afterLast - 1;
    if (last - first < 1) continue;
    const value =
      fn === "irate"
        ? instantRate(samples[last - 1] as Sample, samples[last] as Sample)
        : extrapolatedIncrease(samples, first, last, resets, reset, rangeStart, point) /
          (fn === "rate" ? windowMs / 1000 : 1);
    out.push({ t: point, v: value });
  }
  return out;
}

/** Indices i ≥ 1 where the counter dropped (samples[i].v < samples[i − 1].v), in ascending order. */
function resetIndices(samples: readonly Sample[]): number[] {
  const resets: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    if ((samples[i] as Sample).v < (samples[i - 1] as Sample).v) resets.push(i);
  }
  return resets;
}

/**
 * The increase over the window, corrected for counter resets and extrapolated towards the window edges.
 * Durations stay in integer milliseconds, and the extrapolation is applied as one multiplication followed by one
 * division, so regular samples of large counters give exact results (18e12 + 100e6·t stays exact).
 */
function extrapolatedIncrease(
  samples: readonly Sample[],
  first: number,
  last: number,
  resets: readonly number[],
  resetFrom: number,
  rangeStart: number,
  rangeEnd: number,
): number {
  const a = samples[first] as Sample;
  const b = samples[last] as Sample;
  let increase = b.v - a.v;
  // A drop means the counter restarted from zero, so everything counted before the drop is added back. Summed in
  // sample order, as Prometheus does, so both agree to the last bit before extrapolation.
  for (let r = resetFrom; r < resets.length && (resets[r] as number) <= last; r++) {
    increase += (samples[(resets[r] as number) - 1] as Sample).v;
  }

  const sampledInterval = b.t - a.t;
  const averageInterval = sampledInterval / (last - first);
  // Extrapolate to an edge only when a sample there would be expected (within 110% of the average interval);
  // otherwise the series presumably starts or ends inside the window, half an interval beyond its outer sample.
  const threshold = averageInterval * 1.1;
  let toStart = a.t - rangeStart;
  let toEnd = rangeEnd - b.t;
  if (toStart >= threshold) toStart = averageInterval / 2;
  // A counter is never negative: do not extrapolate back past the moment it would have been zero.
  if (increase > 0 && a.v >= 0) {
    const toZero = sampledInterval * (a.v / increase);
    if (toZero < toStart) toStart = toZero;
  }
  if (toEnd >= threshold) toEnd = averageInterval / 2;
  return (increase * (sampledInterval + toStart + toEnd)) / sampledInterval;
}

/** Per-second rate between the last two samples of a window; after a reset the counter counted up from zero. */
function instantRate(previous: Sample, last: Sample): number {
  const delta = last.v < previous.v ? last.v : last.v - previous.v;
  return delta / ((last.t - previous.t) / 1000);
}

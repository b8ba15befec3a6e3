/** Downsampling of raw points into fixed buckets (5 minutes, 1 hour). Pure: no I/O. */
import type { MetricPointsTable, MetricRollupsTable } from "../db/types.js";

/** A stored point (time in unix milliseconds). */
export type RawPoint = MetricPointsTable;

/** A stored rollup row: `last`/`last_ts` are the bucket's newest point, from which rates over rollups are computed. */
export type BucketRow = MetricRollupsTable;

export const ROLLUP_RESOLUTIONS = [300, 3_600] as const;

/** Start of the bucket of width `resolutionSeconds` holding `ts`; exact for negative times too. */
export function bucketStart(ts: number, resolutionSeconds: number): number {
  const width = resolutionSeconds * 1000;
  return Math.floor(ts / width) * width;
}

/**
 * One row per (series, bucket) holding the points given, which must be sorted by series then time. A bucket is
 * only complete when every point of it is given: callers pass whole buckets.
 */
export function bucketize(points: readonly RawPoint[], resolutionSeconds: number): BucketRow[] {
  const rows: BucketRow[] = [];
  let row: BucketRow | undefined;
  for (const { series_id, ts, value } of points) {
    const bucket = bucketStart(ts, resolutionSeconds);
    if (row === undefined || row.series_id !== series_id || row.bucket !== bucket) {
      if (row !== undefined && (series_id < row.series_id || (series_id === row.series_id && ts < row.last_ts))) {
        throw new RangeError("points must be sorted by series, then time");
      }
      row = {
        series_id,
        resolution: resolutionSeconds,
        bucket,
        count: 0,
        sum: 0,
        min: value,
        max: value,
        last: 0,
        last_ts: 0,
      };
      rows.push(row);
    } else if (ts < row.last_ts) {
      throw new RangeError("points must be sorted by series, then time");
    }
    row.count++;
    row.sum += value;
    if (value < row.min) row.min = value;
    if (value > row.max) row.max = value;
    row.last = value;
    row.last_ts = ts;
  }
  return rows;
}

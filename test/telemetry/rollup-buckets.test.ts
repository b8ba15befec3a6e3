import { describe, expect, it } from "vitest";
import { bucketize, bucketStart } from "../../src/telemetry/rollup-buckets.js";

describe("bucketStart", () => {
  it("rounds down to the bucket width, before the epoch too", () => {
    expect(bucketStart(Date.UTC(2026, 0, 1, 10, 7, 30), 300)).toBe(Date.UTC(2026, 0, 1, 10, 5));
    expect(bucketStart(Date.UTC(2026, 0, 1, 10, 59, 59, 999), 3_600)).toBe(Date.UTC(2026, 0, 1, 10));
    expect(bucketStart(Date.UTC(2026, 0, 1, 11), 3_600)).toBe(Date.UTC(2026, 0, 1, 11));
    expect(bucketStart(-1, 300)).toBe(-300_000);
  });
});

describe("bucketize", () => {
  it("one row per series and bucket with count, sum, min, max and the newest point", () => {
    const points = [
      { series_id: 1, ts: 0, value: 5 },
      { series_id: 1, ts: 299_999, value: -1 },
      { series_id: 1, ts: 300_000, value: 2 },
      { series_id: 2, ts: 10, value: 7 },
    ];
    expect(bucketize(points, 300)).toEqual([
      { series_id: 1, resolution: 300, bucket: 0, count: 2, sum: 4, min: -1, max: 5, last: -1, last_ts: 299_999 },
      { series_id: 1, resolution: 300, bucket: 300_000, count: 1, sum: 2, min: 2, max: 2, last: 2, last_ts: 300_000 },
      { series_id: 2, resolution: 300, bucket: 0, count: 1, sum: 7, min: 7, max: 7, last: 7, last_ts: 10 },
    ]);
    expect(bucketize(points, 3_600)).toEqual([
      { series_id: 1, resolution: 3_600, bucket: 0, count: 3, sum: 6, min: -1, max: 5, last: 2, last_ts: 300_000 },
      { series_id: 2, resolution: 3_600, bucket: 0, count: 1, sum: 7, min: 7, max: 7, last: 7, last_ts: 10 },
    ]);
    expect(bucketize([], 300)).toEqual([]);
  });

  it("refuses unsorted points rather than splitting a bucket in two", () => {
    expect(() =>
      bucketize(
        [
          { series_id: 1, ts: 400_000, value: 1 },
          { series_id: 1, ts: 100_000, value: 1 },
        ],
        300,
      ),
    ).toThrow(RangeError);
    expect(() =>
      bucketize(
        [
          { series_id: 2, ts: 0, value: 1 },
          { series_id: 1, ts: 0, value: 1 },
        ],
        300,
      ),
    ).toThrow(RangeError);
    expect(() =>
      bucketize(
        [
          { series_id: 1, ts: 20, value: 1 },
          { series_id: 1, ts: 10, value: 1 },
        ],
        300,
      ),
    ).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import { canonicalLabels, matchesLabelFilter, parseLabelFilter } from "../../src/telemetry/labels.js";
import { planSource } from "../../src/telemetry/query.js";
import { parseTimeseriesQuery, parseWindow } from "../../src/telemetry/query-params.js";
import { SeriesCache } from "../../src/telemetry/series-cache.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 86_400_000;
const retention = { metricsDays: 30, rollup5mDays: 90 };
const query = (params: Record<string, string>, rate = true) => parseTimeseriesQuery("m", params, { rate, now: NOW });

describe("planSource", () => {
  it("picks raw points, 5-minute or 1-hour rollups by step and retention, widening windows on rollups", () => {
    const since = (NOW - DAY) / 1000;
    const at = (step: number, from = since) =>
      planSource(query({ since: String(from), until: String(NOW / 1000), step: String(step) }), true, retention, NOW);
    expect(at(60)).toEqual({ source: "raw", window: 300_000, lookback: 300_000, from: NOW - DAY - 360_000 });
    expect(at(299).source).toBe("raw");
    expect(at(300)).toMatchObject({ source: "5m", window: 600_000 });
    expect(at(900)).toMatchObject({ source: "5m", window: 1_200_000 });
    expect(at(3600)).toMatchObject({ source: "1h", window: 7_200_000, lookback: 3_600_000 });
    // Beyond raw retention a fine step still reads rollups; beyond 5-minute retention the hourly ones.
    expect(at(60, (NOW - 31 * DAY) / 1000).source).toBe("5m");
    expect(at(300, (NOW - 91 * DAY) / 1000).source).toBe("1h");
    const plain = planSource(query({ since: String(since), step: "600" }, false), false, retention, NOW);
    expect(plain).toMatchObject({ source: "5m", lookback: 300_000, from: NOW - DAY - 300_000 });
  });
});

describe("parseTimeseriesQuery", () => {
  it("defaults to the last hour, a step keeping 2,000 points and dcmon's aggregations", () => {
    const q = query({}, false);
    expect(q).toMatchObject({ since: NOW - 3_600_000, until: NOW, step: 10_000, aggregation: "max", window: 300_000 });
    expect(query({}).aggregation).toBe("sum");
    expect(query({ since: String((NOW - 90 * DAY) / 1000) }).step).toBe(3_890_000);
    expect(query({ since: String((NOW - 90 * DAY) / 1000), step: "60" })).toMatchObject({
      step: 3_890_000,
      stepRaisedFrom: 60_000,
    });
  });

  it("reads windows as Prometheus durations or seconds", () => {
    expect(parseWindow("5m")).toBe(300_000);
    expect(parseWindow("1h30m")).toBe(5_400_000);
    expect(parseWindow("2d")).toBe(2 * DAY);
    expect(parseWindow("1w12h")).toBe(7.5 * DAY);
    expect(parseWindow("90")).toBe(90_000);
    expect(parseWindow("5x")).toBeUndefined();
    expect(parseWindow("")).toBeUndefined();
  });
});

describe("labels", () => {
  it("stores label sets canonically and filters them", () => {
    expect(canonicalLabels({ b: 2, a: true, c: "x" })).toEqual({ json: '{"a":"true","b":"2","c":"x"}' });
    expect(canonicalLabels(null)).toEqual({ json: "{}" });
    expect(canonicalLabels({ a: Number.NaN })).toEqual({
      problem: 'label "a" must be a string, a finite number or a boolean',
    });
    const filter = parseLabelFilter('[{"sensor":"CPU"},{"sensor":"VRM","n":1}]');
    expect(filter).toEqual([{ sensor: "CPU" }, { sensor: "VRM", n: "1" }]);
    if ("problem" in filter) throw new Error(filter.problem);
    expect(matchesLabelFilter({ sensor: "CPU", n: "5" }, filter)).toBe(true);
    expect(matchesLabelFilter({ sensor: "VRM", n: "2" }, filter)).toBe(false);
    expect(parseLabelFilter("device=sda, host = x")).toEqual([{ device: "sda", host: "x" }]);
  });
});

describe("SeriesCache", () => {
  it("drops the series of the system cached earliest once full", () => {
    const cache = new SeriesCache(4);
    cache.set("s1", "m", "{}", 1);
    cache.set("s1", "m", '{"a":"1"}', 2);
    cache.set("s2", "m", "{}", 3);
    cache.set("s2", "n", "{}", 4);
    expect(cache.size).toBe(4);
    cache.set("s3", "m", "{}", 5);
    expect(cache.get("s1", "m", "{}")).toBeUndefined();
    expect(cache.get("s2", "n", "{}")).toBe(4);
    expect(cache.get("s3", "m", "{}")).toBe(5);
    expect(cache.size).toBe(3);
    cache.forgetSystem("s2");
    expect(cache.size).toBe(1);
  });
});

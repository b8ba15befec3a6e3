import { describe, expect, it } from "vitest";
import { formatReport, runMetricsBench } from "../../bench/metrics.js";

describe("metrics bench", () => {
  it("pushes batches through a real server, counts what it stored and times the rate query", async () => {
    const result = await runMetricsBench({
      agents: 4,
      seriesPerAgent: 20,
      seconds: 1,
      warmupSeconds: 0.3,
      concurrency: 4,
      limitSeconds: 0.2,
      queryDays: 35,
      queryIntervalSeconds: 600,
      queryRuns: 2,
    });

    expect(result.errors).toEqual({});
    expect(result.ingest.requests).toBeGreaterThan(0);
    // Every sample the server said it inserted is in the table, and nothing else besides the query series.
    expect(result.ingest.rows_total).toBe(result.ingest.rows_expected_total);
    expect(result.ingest.rows_stored_in_window).toBeGreaterThan(0);
    expect(result.ingest.samples_per_second).toBeGreaterThan(0);
    expect(result.limit.samples_per_second).toBeGreaterThan(0);
    expect(result.limit.ratio).toBeGreaterThan(0);
    // 35 days with 30 days of raw points: maintenance rolled up and deleted the oldest 5 days.
    expect(result.query.raw_points).toBeLessThan((10 * 35 * 86_400) / 600);
    expect(result.query.rollup_rows).toBeGreaterThan(0);
    expect(result.query.source).toBe("5m");
    expect(result.query.points).toBeGreaterThan(1_000);
    expect(result.query.points).toBeLessThanOrEqual(2_000);
    expect(result.query.runs_ms).toHaveLength(2);
    if (process.platform === "linux") expect(result.server.max_rss_mb).toBeGreaterThan(0);
    expect(result.targets.map((t) => t.name)).toHaveLength(3);
    expect(formatReport(result)).toContain("ours / limit");
  });
});

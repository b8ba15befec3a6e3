import { describe, expect, it } from "vitest";
import { runAgentBench } from "../../bench/agent.js";

describe("agent bench", () => {
  it("runs the agent bundle in a child process against a real server and measures it", async () => {
    const result = await runAgentBench({ cycles: 4, shortIntervalMs: 500, durationSeconds: 0, containers: 2 });
    expect(result.cpu_ms_per_cycle).toBeGreaterThan(0);
    expect(result.core_percent_at_30s).toBeCloseTo((result.cpu_ms_per_cycle / 30_000) * 100, 2);
    expect(result.rss_mb_max).toBeGreaterThan(20);
    // The agent really pushed: os + docker rows and the file log's lines are in the server's tables.
    expect(result.metric_points).toBeGreaterThan(20);
    expect(result.log_lines).toBeGreaterThan(0);
    // The host facts were read by the bundle's own `facts` command in a child process and pushed.
    expect(result.inventory_records).toBeGreaterThanOrEqual(1);
    expect(result.targets).toEqual({ core_percent: 1, rss_mb: 80 });
  });
});

import { describe, expect, it } from "vitest";
import { runInventoryBench } from "../../bench/inventory.js";

describe("inventory bench", () => {
  // Most of the time is the seven CLI runs that set the fleet up: 16 s at a load average of 4 on 2 cores, 48 s at 9,
  // hence the generous timeout.
  it("pushes documents through a real server and proves they were stored", async () => {
    const result = await runInventoryBench({
      systems: 5,
      concurrency: 4,
      seconds: 2,
      warmupSeconds: 0.5,
      baselineSeconds: 0.2,
    });

    expect(Object.keys(result).sort()).toEqual([
      "baseline",
      "bench",
      "collect_claim",
      "config",
      "cpu",
      "document_bytes",
      "errors",
      "latency_ms",
      "machine",
      "profile",
      "queue",
      "server",
      "setup_seconds",
      "started_at",
      "targets",
      "throughput",
      "verification",
    ]);
    expect(result.throughput.accepted).toBeGreaterThan(0);
    expect(result.verification.records).toBe(result.verification.accepted_posts);
    expect(result.verification.recorded_changes).toBe(result.verification.expected_changes);
    expect(result.verification.sampled_diffs).toBe(result.verification.sampled_expected_diffs);
    expect(result.verification.ok).toBe(true);
    expect(result.errors).toEqual({});
    expect(result.config).toMatchObject({ systems: 5, concurrency: 4 });
    expect(result.document_bytes).toBeGreaterThan(5_000);
    for (const value of [
      result.throughput.accepted_per_second,
      result.latency_ms.p50,
      result.latency_ms.p99,
      result.queue.max_pending,
      result.queue.final_pending,
      result.queue.max_lag_seconds,
      result.cpu.client_cores,
      result.baseline.documents_per_second,
      result.baseline.ratio,
      result.baseline.cpu_ms_per_document,
      result.collect_claim.ratio,
    ]) {
      expect(Number.isFinite(value)).toBe(true);
    }
    expect(result.queue.drain_seconds).not.toBeNull();
    // RSS comes from /proc, which only Linux has.
    if (process.platform === "linux") expect(result.server.max_rss_mb).toBeGreaterThan(0);
    expect(result.targets.map((t) => typeof t.pass)).toEqual(["boolean", "boolean", "boolean"]);
  }, 120_000);
});

import { describe, expect, it } from "vitest";
import { formatReport, runBillingBench } from "../../bench/billing.js";

describe("billing bench", () => {
  it("ingests a small foundation through syncOnce, bills every org and times the stages and the limit", async () => {
    const result = await runBillingBench({ events: 2000, orgs: 10, fetchLimit: 100, runs: 1 });

    expect(result.config).toMatchObject({ events: 2000, orgs: 10, fetch_limit: 100, runs: 1 });
    expect(result.foundation).toMatchObject({ orgs: 10, apps: 100, service_instances: 40 });
    expect(result.foundation.app_events + result.foundation.service_events).toBe(2000);
    expect(result.foundation.before_month).toBeGreaterThan(0);
    expect(result.skipped).toEqual(["PostgreSQL skipped: no --pg URL and no FLEETLEDGER_TEST_DATABASE_URL"]);

    expect(result.databases.map((d) => d.dialect)).toEqual(["sqlite"]);
    const [sqlite] = result.databases;
    const ingest = sqlite?.ingest;
    expect(ingest).toMatchObject({ collector: "syncOnce", stored: 2000 });
    // 100 events a page, and each kind ends on a partial page.
    expect(ingest?.pages).toBeGreaterThanOrEqual(20);
    expect(ingest?.events_per_second).toBeGreaterThan(0);

    const bill = sqlite?.bill;
    expect(bill?.orgs).toBe(10);
    expect(bill?.unpriced).toBe(0);
    expect(Number(bill?.total_ex_vat)).toBeGreaterThan(0);
    expect(Number(bill?.total_inc_vat)).toBeGreaterThan(Number(bill?.total_ex_vat));
    expect(bill?.split_total_ex_vat).toBe(bill?.total_ex_vat);
    expect(bill?.billable_events).toBe(result.limit.billable_events);
    expect(bill?.intervals).toBe(result.limit.intervals);
    for (const stage of Object.values(bill?.split ?? {})) expect(stage.runs_s).toHaveLength(1);

    for (const ratio of [sqlite?.ratio_best, sqlite?.ratio_median, sqlite?.ratio_best_cpu]) {
      expect(Number.isFinite(ratio)).toBe(true);
      expect(ratio).toBeGreaterThan(0);
    }
    expect(result.targets.filter((t) => !t.name.includes("≤")).every((t) => t.pass)).toBe(true);
    expect(formatReport(result)).toContain("| sqlite | syncOnce | 100 | 2,000 |");
  }, 60_000);
});

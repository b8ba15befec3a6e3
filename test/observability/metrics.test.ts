import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/tokens.js";
import { createTestServer, type TestServer } from "../helpers/server.js";

// Every metric name seed 000 (vCTP) lists; dashboards built for vCTP query these names.
const VCTP_METRICS = [
  "vctp_hourly_snapshots_total",
  "vctp_hourly_snapshots_failed_total",
  "vctp_hourly_snapshot_last_unix",
  "vctp_hourly_snapshot_last_rows",
  "vctp_daily_aggregations_total",
  "vctp_daily_aggregations_failed_total",
  "vctp_daily_aggregation_duration_seconds",
  "vctp_monthly_aggregations_total",
  "vctp_monthly_aggregations_failed_total",
  "vctp_monthly_aggregation_duration_seconds",
  "vctp_reports_available",
  "vctp_vcenter_connect_failures_total",
  "vctp_vcenter_snapshot_duration_seconds",
  "vctp_vcenter_inventory_size",
];

describe("/metrics", () => {
  let server: TestServer;
  afterEach(async () => server?.cleanup());

  it("exposes every vctp_* metric and passes promtool check metrics", async () => {
    server = await createTestServer("sqlite");
    const m = server.ctx.metrics.vctp;
    m.connectFailures.inc({ vcenter: "https://vc/sdk" });
    m.snapshotDuration.set({ vcenter: "https://vc/sdk" }, 1.5);
    m.inventorySize.set({ vcenter: "https://vc/sdk" }, 12);
    const admin = `Bearer ${await createToken(server.ctx.database.db, "ops", "admin")}`;
    await server.app.inject({
      method: "POST",
      url: "/api/snapshots/aggregate",
      headers: { authorization: admin },
      payload: { type: "daily", date: "2026-11-02" },
    });
    await server.app.inject({
      method: "POST",
      url: "/api/snapshots/aggregate",
      headers: { authorization: admin },
      payload: { type: "monthly", date: "2026-11" },
    });

    const body = (await server.app.inject("/metrics")).body;
    for (const name of VCTP_METRICS) expect(body, name).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
    expect(body).toContain('vctp_vcenter_inventory_size{vcenter="https://vc/sdk"} 12');
    expect(body).toMatch(/^vctp_daily_aggregations_total 1$/m);
    expect(body).toMatch(/^fleetledger_queue_depth\{/m);

    const promtool = spawnSync("promtool", ["check", "metrics"], { input: body, encoding: "utf8" });
    if (promtool.error) throw new Error(`promtool is missing (Debian package "prometheus"): ${promtool.error.message}`);
    expect(`${promtool.stdout}${promtool.stderr}`.trim()).toBe("");
    expect(promtool.status).toBe(0);
  });
});

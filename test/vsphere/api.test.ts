import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/tokens.js";
import type { Settings } from "../../src/config/schema.js";
import type { VmSample as CollectedVm } from "../../src/vsphere/collect/sample.js";
import { cleanupSnapshots, runDailyAggregation } from "../../src/vsphere/service.js";
import { snapshotVcenter } from "../../src/vsphere/snapshot-job.js";
import { storeSnapshot } from "../../src/vsphere/snapshots.js";
import { DIALECTS } from "../helpers/env.js";
import { createTestServer, type TestServer } from "../helpers/server.js";

const DAY = Date.UTC(2026, 10, 2) / 1000;
const vm = (id: string, over: Partial<CollectedVm> = {}): CollectedVm => ({
  VmId: id,
  VmUuid: `uuid-${id}`,
  InstanceUuid: `i-${id}`,
  Name: `name-${id}`,
  ResourcePool: "Gold",
  Datacenter: "DC0",
  Cluster: "C0",
  Folder: "vm/acme",
  ProvisionedDisk: 50,
  VcpuCount: 2,
  RamGB: 4,
  CreationTime: 0,
  IsTemplate: false,
  PoweredOn: true,
  SrmPlaceholder: false,
  ...over,
});

describe.each(DIALECTS)("vSphere API on %s", (dialect) => {
  let server: TestServer;
  afterEach(async () => server?.cleanup());

  const setup = async (configure?: (s: Settings) => void) => {
    server = await createTestServer(dialect, (s) => {
      s.billing.rate_card = {
        Tin: { vcpu_hour: "0.01", ram_gb_hour: "0", disk_gb_month: "0" },
        Bronze: { vcpu_hour: "0.02", ram_gb_hour: "0", disk_gb_month: "0" },
        Silver: { vcpu_hour: "0.03", ram_gb_hour: "0", disk_gb_month: "0" },
        Gold: { vcpu_hour: "0.05", ram_gb_hour: "0", disk_gb_month: "0" },
      };
      configure?.(s);
    });
    const db = server.ctx.database.db;
    for (let h = 0; h < 24; h++) {
      const rows = [vm("vm-1"), vm("vm-2", { ResourcePool: "Tin", Folder: "vm/beta/web" })];
      if (h < 12) rows.push(vm("vm-3", { Folder: "vm/beta" }));
      await storeSnapshot(db, {
        vcenter: "https://vc/sdk",
        snapshotTime: DAY + h * 3600,
        rows,
        durationMs: 5,
        roundTrips: 5,
        attempts: 1,
      });
    }
    const admin = `Bearer ${await createToken(db, "ops", "admin")}`;
    const viewer = `Bearer ${await createToken(db, "look", "viewer")}`;
    const req = (method: "GET" | "POST", url: string, auth = viewer, payload?: unknown) =>
      server.app.inject({
        method,
        url,
        headers: { authorization: auth },
        ...(payload ? { payload: payload as object } : {}),
      });
    return { admin, viewer, req };
  };

  it("regenerates rollups and serves them with vCTP field names", async () => {
    const { admin, req } = await setup();
    expect(
      (await req("POST", "/api/snapshots/aggregate", undefined, { type: "daily", date: "2026-11-02" })).statusCode,
    ).toBe(403);
    const agg = await req("POST", "/api/snapshots/aggregate", admin, { type: "daily", date: "2026-11-02" });
    expect(agg.statusCode).toBe(200);
    expect(agg.json()).toMatchObject({ type: "daily", date: "2026-11-02", rows: 3 });
    const again = await req("POST", "/api/snapshots/aggregate", admin, { type: "daily", date: "2026-11-02" });
    expect(again.json().rows).toBe(3);

    const daily = (await req("GET", "/api/vsphere/daily?date=2026-11-02")).json();
    expect(Object.keys(daily[0])).toEqual([
      "Vcenter",
      "VmId",
      "VmUuid",
      "Name",
      "ResourcePool",
      "Cluster",
      "Datacenter",
      "Folder",
      "SamplesPresent",
      "TotalSamples",
      "AvgIsPresent",
      "AvgVcpuCount",
      "AvgRamGB",
      "AvgProvisionedDisk",
      "PoolTinPct",
      "PoolBronzePct",
      "PoolSilverPct",
      "PoolGoldPct",
      "Tin",
      "Bronze",
      "Silver",
      "Gold",
      "CreationTime",
      "DeletionTime",
      "SnapshotTime",
    ]);
    const vm3 = daily.find((r: { VmId: string }) => r.VmId === "vm-3");
    expect(vm3).toMatchObject({
      SamplesPresent: 12,
      TotalSamples: 24,
      AvgIsPresent: 0.5,
      AvgVcpuCount: 1,
      Gold: 0.5,
      DeletionTime: DAY + 12 * 3600,
    });
    expect((await req("GET", "/api/vsphere/daily?date=2026-11-02&vcenter=https://other/sdk")).json()).toEqual([]);
    expect((await req("GET", "/api/vsphere/daily?date=2026-11")).statusCode).toBe(400);

    const monthly = await req("POST", "/api/snapshots/aggregate", admin, { type: "monthly", date: "2026-11" });
    expect(monthly.json().rows).toBe(3);
    const m = (await req("GET", "/api/vsphere/monthly?month=2026-11")).json();
    expect(m.find((r: { VmId: string }) => r.VmId === "vm-1")).toMatchObject({
      TotalSamples: 24,
      AvgIsPresent: 1,
      AvgVcpuCount: 2,
    });
    expect(
      (await req("POST", "/api/snapshots/aggregate", admin, { type: "monthly", date: "2026-13" })).statusCode,
    ).toBe(400);

    const snaps = (await req("GET", "/api/vsphere/snapshots?limit=2")).json();
    expect(snaps).toEqual([
      expect.objectContaining({
        vcenter: "https://vc/sdk",
        snapshot_time: DAY + 23 * 3600,
        rows: 2,
        status: "success",
        error: null,
      }),
      expect.objectContaining({ snapshot_time: DAY + 22 * 3600 }),
    ]);
  });

  it("charges tenants, traces VMs and reports totals", async () => {
    const { admin, req } = await setup();
    await req("POST", "/api/snapshots/aggregate", admin, { type: "daily", date: "2026-11-02" });
    const bill = (await req("GET", "/api/vsphere/chargeback?date=2026-11-02")).json();
    // acme: vm-1 2 vCPU × 24 h Gold × 0.05 = 2.4; beta: vm-2 48 vCPU-h Tin × 0.01 = 0.48 + vm-3 24 vCPU-h Gold × 0.05 = 1.2
    expect(bill.tenants.map((t: { tenant: string; total: string }) => [t.tenant, t.total])).toEqual([
      ["acme", "2.40"],
      ["beta", "1.68"],
    ]);
    expect(bill.total).toBe("4.08");
    expect((await req("GET", "/api/vsphere/chargeback")).statusCode).toBe(400);
    expect((await req("GET", "/api/vsphere/chargeback?month=2026-11&date=2026-11-02")).statusCode).toBe(400);

    const trace = await req("GET", "/api/vsphere/vms/vm-3/trace?view=hourly&days=400");
    expect(trace.statusCode).toBe(200);
    const points = trace.json().points;
    expect(points).toHaveLength(24);
    expect(points.filter((p: { present: number }) => p.present === 1)).toHaveLength(12);
    const daily = (await req("GET", "/api/vsphere/vms/vm-3/trace?view=daily&days=400")).json();
    expect(daily.points).toEqual([expect.objectContaining({ present: 0.5, VcpuCount: 1 })]);
    expect((await req("GET", "/api/vsphere/vms/vm-404/trace")).statusCode).toBe(404);

    expect((await req("GET", "/api/vsphere/totals/latest")).json()).toEqual([
      expect.objectContaining({ vcenter: "https://vc/sdk", vm_count: 2, vcpus: 4, gold: 1, tin: 1 }),
    ]);
    const hourly = (await req("GET", "/api/vsphere/totals/hourly?days=400")).json();
    const noon = hourly.find((h: { period_start: number }) => h.period_start === DAY + 11 * 3600);
    // [11:00, 12:00) is described by the 12:00 snapshot: vm-3 vanished at 12:00 and counts for the full hour.
    expect(noon).toMatchObject({ vm_count: 3, vcpus: 6 });
    const dailyTotals = (await req("GET", "/api/vsphere/totals/daily?days=400")).json();
    expect(dailyTotals[0]).toMatchObject({ period_start: DAY, vm_count: 2.5, vcpus: 5 });
  });

  it("writes reports after an aggregation and serves them for download", async () => {
    const { admin, req } = await setup();
    const agg = (await req("POST", "/api/snapshots/aggregate", admin, { type: "daily", date: "2026-11-02" })).json();
    expect(agg.reports.map((f: string) => f.split("/").pop())).toEqual([
      "vctp-daily-2026-11-02.xlsx",
      "vctp-daily-2026-11-02.csv",
    ]);
    const list = (await req("GET", "/api/vsphere/reports")).json();
    expect(list.map((r: { name: string }) => r.name).sort()).toEqual([
      "vctp-daily-2026-11-02.csv",
      "vctp-daily-2026-11-02.xlsx",
    ]);
    const xlsx = await req("GET", "/api/vsphere/reports/vctp-daily-2026-11-02.xlsx");
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe("PK");
    const csv = await req("GET", "/api/vsphere/reports/vctp-daily-2026-11-02.csv");
    expect(csv.body.split("\r\n")[0]).toMatch(/^Vcenter,VmId,VmUuid,Name/);
    expect((await req("GET", "/api/vsphere/reports/..%2F..%2Fetc%2Fpasswd")).statusCode).toBe(404);
    expect((await server.app.inject("/metrics")).body).toContain("vctp_reports_available 2");
  });

  it("applies snapshot retention by age", async () => {
    await setup((s) => {
      s.settings.hourly_snapshot_max_age_days = 60;
      s.settings.daily_snapshot_max_age_months = 12;
    });
    await runDailyAggregation(server.ctx, "2026-11-02");
    const early = await cleanupSnapshots(server.ctx, new Date((DAY + 30 * 86400) * 1000));
    expect(early).toEqual({ samples: 0, daily: 0 });
    // 60 days after the last sample of the day, 12 of the 24 snapshots are older than the limit.
    const later = await cleanupSnapshots(server.ctx, new Date((DAY + 60 * 86400 + 12 * 3600) * 1000));
    expect(later.samples).toBe(12 * 2 + 12);
    const year = await cleanupSnapshots(server.ctx, new Date(Date.UTC(2027, 10, 3)));
    expect(year.daily).toBe(3);
  });

  it("answers 410 Gone on legacy endpoints unless enabled", async () => {
    const { req } = await setup();
    const gone = await req("POST", "/api/event/vm/create");
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ error: "gone" });
    expect((await req("GET", "/api/cleanup/vcenter")).statusCode).toBe(410);
  });

  it("records a failing vCenter as failed after its retries, counts it and keeps earlier data", async () => {
    await setup((s) => {
      s.settings.hourly_snapshot_max_retries = 2;
      s.settings.hourly_snapshot_retry_seconds = 1;
    });
    const sleeps: number[] = [];
    const outcome = await snapshotVcenter(
      {
        db: server.ctx.database.db,
        settings: server.ctx.settings,
        log: pino({ level: "silent" }),
        metrics: server.ctx.metrics,
        password: "x",
        collect: async () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:1");
        },
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
      "https://vc/sdk",
      new Date((DAY + 24 * 3600) * 1000),
    );
    expect(outcome).toMatchObject({ status: "failed", attempts: 3, error: "connect ECONNREFUSED 127.0.0.1:1" });
    expect(sleeps).toEqual([1000, 1000]);
    const run = await server.ctx.database.db
      .selectFrom("vsphere_snapshots")
      .selectAll()
      .where("snapshot_time", "=", DAY + 24 * 3600)
      .executeTakeFirst();
    expect(run).toMatchObject({ status: "failed", rows: 0, attempts: 3, error: "connect ECONNREFUSED 127.0.0.1:1" });
    const metrics = (await server.app.inject("/metrics")).body;
    expect(metrics).toContain('vctp_vcenter_connect_failures_total{vcenter="https://vc/sdk"} 3');
    expect(metrics).toContain("vctp_hourly_snapshots_failed_total 1");
    const samples = await server.ctx.database.db
      .selectFrom("vm_samples")
      .select("vm_id")
      .where("snapshot_time", "=", DAY + 23 * 3600)
      .execute();
    expect(samples).toHaveLength(2);
  });
});

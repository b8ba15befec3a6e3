import { afterEach, describe, expect, it } from "vitest";
import { rollupDay, rollupMonth, type VmSample } from "../../src/usage/vm-rollup.js";
import { aggregateDaily, aggregateMonthly } from "../../src/vsphere/aggregate.js";
import type { VmSample as CollectedVm } from "../../src/vsphere/collect/sample.js";
import { fromRow, recordFailedSnapshot, storeSnapshot } from "../../src/vsphere/snapshots.js";
import { createTestEnv, DIALECTS, type TestEnv } from "../helpers/env.js";

const DAY1 = Date.UTC(2026, 9, 30) / 1000; // 2026-10-30
const at = (dayOffset: number, h: number) => DAY1 + dayOffset * 86400 + h * 3600 + 30;

function vm(id: string, over: Partial<CollectedVm> = {}): CollectedVm {
  return {
    VmId: id,
    VmUuid: `uuid-${id}`,
    InstanceUuid: `inst-${id}`,
    Name: `name-${id}`,
    ResourcePool: "Gold",
    Datacenter: "DC0",
    Cluster: "C0",
    Folder: "vm/acme",
    ProvisionedDisk: 100,
    VcpuCount: 2,
    RamGB: 4,
    CreationTime: 0,
    IsTemplate: false,
    PoweredOn: true,
    SrmPlaceholder: false,
    ...over,
  };
}

/** Three days of hourly snapshots of two vCenters with creations, resizes, pool moves, deletions and a gap. */
function scenario(): { vcenter: string; time: number; rows: CollectedVm[] }[] {
  const runs: { vcenter: string; time: number; rows: CollectedVm[] }[] = [];
  for (let d = 0; d < 3; d++) {
    for (let h = 0; h < 24; h++) {
      const t = at(d, h);
      const hourIndex = d * 24 + h;
      if (d === 1 && h === 7) continue; // a missed snapshot
      const rows = [
        vm("vm-1", { VcpuCount: hourIndex < 30 ? 2 : 4, RamGB: hourIndex < 30 ? 4 : 8 }),
        vm("vm-2", { ResourcePool: hourIndex % 3 === 0 ? "Tin" : "Silver" }),
      ];
      if (hourIndex >= 12) rows.push(vm("vm-3", { CreationTime: at(0, 11), ResourcePool: "Bronze" }));
      if (hourIndex < 48) rows.push(vm("vm-4", { Name: "doomed" }));
      if (hourIndex >= 50) rows.push(vm("vm-5", { Name: "doomed", CreationTime: at(2, 1) }));
      runs.push({ vcenter: "https://vc-a/sdk", time: t, rows });
      if (h % 2 === 0)
        runs.push({
          vcenter: "https://vc-b/sdk",
          time: t + 5,
          rows: [vm("vm-1", { Folder: "vm/other", ResourcePool: "Resources" })],
        });
    }
  }
  return runs;
}

describe.each(DIALECTS)("vSphere snapshots and rollups on %s", (dialect) => {
  let env: TestEnv;
  afterEach(async () => env?.cleanup());

  const load = async () => {
    env = await createTestEnv(dialect);
    const db = env.ctx.database.db;
    for (const run of scenario()) {
      await storeSnapshot(db, {
        vcenter: run.vcenter,
        snapshotTime: run.time,
        rows: run.rows,
        durationMs: 10,
        roundTrips: 4,
        attempts: 1,
      });
    }
    return db;
  };

  const samplesOf = async (start: number, end: number) =>
    (
      await env.ctx.database.db
        .selectFrom("vm_samples")
        .selectAll()
        .where("snapshot_time", ">=", start)
        .where("snapshot_time", "<", end)
        .execute()
    ).map(fromRow);

  const snapshotTimes = async (vcenter: string, start: number, end: number) =>
    (
      await env.ctx.database.db
        .selectFrom("vsphere_snapshots")
        .select("snapshot_time")
        .where("vcenter", "=", vcenter)
        .where("status", "=", "success")
        .where("snapshot_time", ">=", start)
        .where("snapshot_time", "<", end)
        .execute()
    ).map((r) => Number(r.snapshot_time));

  const dailyRows = async (day: string) =>
    env.ctx.database.db
      .selectFrom("vm_daily_rollup")
      .selectAll()
      .where("day", "=", day)
      .orderBy("vcenter")
      .orderBy("vm_id")
      .execute();

  const expectSame = (sqlRows: Record<string, unknown>[], reference: ReturnType<typeof rollupDay>) => {
    expect(sqlRows.map((r) => `${r.vcenter}/${r.vm_id}`)).toEqual(reference.map((r) => `${r.Vcenter}/${r.VmId}`));
    sqlRows.forEach((r, i) => {
      const ref = reference[i] as ReturnType<typeof rollupDay>[number];
      expect(r).toMatchObject({
        vm_uuid: ref.VmUuid,
        name: ref.Name,
        resource_pool: ref.ResourcePool,
        samples_present: ref.SamplesPresent,
        total_samples: ref.TotalSamples,
      });
      expect(Number(r.creation_time)).toBe(ref.CreationTime);
      expect(Number(r.deletion_time)).toBe(ref.DeletionTime);
      expect(Number(r.snapshot_time)).toBe(ref.SnapshotTime);
      const pairs: [string, number][] = [
        ["avg_is_present", ref.AvgIsPresent],
        ["avg_vcpu_count", ref.AvgVcpuCount],
        ["avg_ram_gb", ref.AvgRamGB],
        ["avg_provisioned_disk", ref.AvgProvisionedDisk],
        ["pool_tin_pct", ref.PoolTinPct],
        ["pool_bronze_pct", ref.PoolBronzePct],
        ["pool_silver_pct", ref.PoolSilverPct],
        ["pool_gold_pct", ref.PoolGoldPct],
        ["tin", ref.Tin],
        ["bronze", ref.Bronze],
        ["silver", ref.Silver],
        ["gold", ref.Gold],
      ];
      for (const [column, value] of pairs) expect(r[column] as number, `${r.vm_id}.${column}`).toBeCloseTo(value, 9);
    });
  };

  it("daily SQL equals the reference rollup, including a deletion across midnight and a missed snapshot", async () => {
    await load();
    for (const [d, day] of ["2026-10-30", "2026-10-31", "2026-11-01"].entries()) {
      const start = DAY1 + d * 86400;
      const result = await aggregateDaily(env.ctx.database.db, dialect, day);
      const samples = await samplesOf(start, start + 86400);
      const reference: ReturnType<typeof rollupDay> = [];
      for (const vc of ["https://vc-a/sdk", "https://vc-b/sdk"]) {
        const times = await snapshotTimes(vc, start, start + 86400);
        reference.push(
          ...rollupDay(
            times,
            samples.filter((s: VmSample) => s.Vcenter === vc),
          ),
        );
      }
      expect(result.rows).toBe(reference.length);
      expectSame(await dailyRows(day), reference);
    }
    const day2 = await dailyRows("2026-10-31");
    const doomed = day2.find((r) => r.vm_id === "vm-4" && r.vcenter === "https://vc-a/sdk");
    // vm-4 was last seen at 23:00 on day 2 and gone at 00:00 on day 3: the deletion is carried back.
    expect(Number(doomed?.deletion_time)).toBe(at(2, 0));
    expect(day2.find((r) => r.vm_id === "vm-1" && r.vcenter === "https://vc-a/sdk")?.total_samples).toBe(23);
  });

  it("is idempotent and monthly from dailies equals the reference", async () => {
    const db = await load();
    await aggregateDaily(db, dialect, "2026-10-31");
    const first = await dailyRows("2026-10-31");
    await aggregateDaily(db, dialect, "2026-10-31");
    expect(await dailyRows("2026-10-31")).toEqual(first);

    const result = await aggregateMonthly(db, dialect, "2026-10");
    const monthly = await db
      .selectFrom("vm_monthly_rollup")
      .selectAll()
      .where("month", "=", "2026-10")
      .orderBy("vcenter")
      .orderBy("vm_id")
      .execute();
    expect(result.rows).toBe(monthly.length);
    const days = ["2026-10-30", "2026-10-31"];
    const reference: ReturnType<typeof rollupMonth> = [];
    for (const vc of ["https://vc-a/sdk", "https://vc-b/sdk"]) {
      const inputs = [];
      for (const [d, day] of days.entries()) {
        const start = DAY1 + d * 86400;
        const rows = rollupDay(
          await snapshotTimes(vc, start, start + 86400),
          (await samplesOf(start, start + 86400)).filter((s) => s.Vcenter === vc),
        );
        inputs.push({ totalSamples: (await snapshotTimes(vc, start, start + 86400)).length, rows });
        expect((await dailyRows(day)).length).toBeGreaterThan(0);
      }
      reference.push(...rollupMonth(inputs));
    }
    expectSame(monthly, reference);
    await aggregateMonthly(db, dialect, "2026-10");
    expect(
      await db
        .selectFrom("vm_monthly_rollup")
        .selectAll()
        .where("month", "=", "2026-10")
        .orderBy("vcenter")
        .orderBy("vm_id")
        .execute(),
    ).toEqual(monthly);

    const totals = await db.selectFrom("vcenter_aggregate_totals").selectAll().where("kind", "=", "monthly").execute();
    expect(totals.map((t) => t.vcenter).sort()).toEqual(["https://vc-a/sdk", "https://vc-b/sdk"]);
    const vcA = totals.find((t) => t.vcenter === "https://vc-a/sdk");
    expect(vcA?.vm_count).toBeCloseTo(
      monthly.filter((m) => m.vcenter === "https://vc-a/sdk").reduce((s, m) => s + m.avg_is_present, 0),
      9,
    );
  });

  it("keeps a failed run out of the rollup and never lets a failure overwrite a success", async () => {
    const db = await load();
    const t = at(0, 5) + 60;
    await recordFailedSnapshot(db, "https://vc-a/sdk", t, "connection refused", 4);
    await recordFailedSnapshot(db, "https://vc-a/sdk", at(0, 5), "late failure", 2);
    const runs = await db
      .selectFrom("vsphere_snapshots")
      .selectAll()
      .where("vcenter", "=", "https://vc-a/sdk")
      .where("snapshot_time", "in", [t, at(0, 5)])
      .orderBy("snapshot_time")
      .execute();
    expect(runs.map((r) => [r.status, r.error])).toEqual([
      ["success", null],
      ["failed", "connection refused"],
    ]);
    await aggregateDaily(db, dialect, "2026-10-30");
    const row = (await dailyRows("2026-10-30")).find((r) => r.vm_id === "vm-1" && r.vcenter === "https://vc-a/sdk");
    expect(row?.total_samples).toBe(24);
  });

  it("rejects impossible dates", async () => {
    env = await createTestEnv(dialect);
    await expect(aggregateDaily(env.ctx.database.db, dialect, "2026-02-30")).rejects.toThrow(/does not exist/);
    await expect(aggregateMonthly(env.ctx.database.db, dialect, "2026-13")).rejects.toThrow(/YYYY-MM/);
  });
});

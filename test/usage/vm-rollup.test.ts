import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hourlyTotals, rollupDay, rollupMonth, type VmSample } from "../../src/usage/vm-rollup.js";

const DAY = Date.UTC(2026, 10, 2) / 1000;
const hour = (h: number) => DAY + h * 3600;
const hours = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => hour(from + i));

function sample(vm: string, at: number, over: Partial<VmSample> = {}): VmSample {
  return {
    Vcenter: "vc1",
    SnapshotTime: at,
    VmId: vm,
    VmUuid: `uuid-${vm}`,
    Name: `name-${vm}`,
    ResourcePool: "Gold",
    Datacenter: "DC0",
    Cluster: "C0",
    Folder: "vm",
    ProvisionedDisk: 100,
    VcpuCount: 2,
    RamGB: 4,
    CreationTime: 0,
    DeletionTime: 0,
    IsTemplate: false,
    PoweredOn: true,
    SrmPlaceholder: false,
    ...over,
  };
}

describe("rollupDay", () => {
  const day = hours(0, 24);

  it("a VM present all day at constant size", () => {
    const [row] = rollupDay(
      day,
      day.map((t) => sample("vm-1", t)),
    );
    expect(row).toMatchObject({
      SamplesPresent: 24,
      TotalSamples: 24,
      AvgIsPresent: 1,
      AvgVcpuCount: 2,
      AvgRamGB: 4,
      AvgProvisionedDisk: 100,
      PoolGoldPct: 100,
      PoolTinPct: 0,
      Gold: 1,
      Tin: 0,
      SnapshotTime: hour(23),
      DeletionTime: 0,
    });
  });

  it("prorates a VM created at noon", () => {
    const created = hour(11) + 1800;
    const [row] = rollupDay(
      day,
      hours(12, 24).map((t) => sample("vm-2", t, { VcpuCount: 4, ResourcePool: "Silver", CreationTime: created })),
    );
    expect(row).toMatchObject({
      SamplesPresent: 12,
      TotalSamples: 24,
      AvgIsPresent: 0.5,
      AvgVcpuCount: 2, // 12 × 4 / 24
      PoolSilverPct: 100,
      Silver: 0.5,
      CreationTime: created,
    });
  });

  it("time-weights a mid-day reconfigure", () => {
    const rows = day.map((t, i) => sample("vm-3", t, { VcpuCount: i < 6 ? 2 : 4, RamGB: i < 6 ? 4 : 16 }));
    const [row] = rollupDay(day, rows);
    expect(row?.AvgVcpuCount).toBe(3.5); // (6·2 + 18·4) / 24
    expect(row?.AvgRamGB).toBe(13); // (6·4 + 18·16) / 24
  });

  it("splits a pool move between tiers", () => {
    const rows = day.map((t, i) => sample("vm-4", t, { ResourcePool: i < 6 ? "Tin" : "gold" }));
    const [row] = rollupDay(day, rows);
    expect(row).toMatchObject({ PoolTinPct: 25, PoolGoldPct: 75, Tin: 0.25, Gold: 0.75, ResourcePool: "gold" });
  });

  it("handles a VM deleted and re-created under the same name", () => {
    const rows = [
      ...hours(0, 10).map((t) => sample("vm-5", t, { Name: "web" })),
      ...hours(14, 24).map((t) => sample("vm-6", t, { Name: "web", CreationTime: hour(13) + 600 })),
    ];
    const [old, recreated] = rollupDay(day, rows);
    expect(old).toMatchObject({ VmId: "vm-5", SamplesPresent: 10, DeletionTime: hour(10), SnapshotTime: hour(9) });
    expect(old?.AvgIsPresent).toBeCloseTo(10 / 24, 15);
    expect(recreated).toMatchObject({
      VmId: "vm-6",
      SamplesPresent: 10,
      DeletionTime: 0,
      CreationTime: hour(13) + 600,
    });
  });

  it("counts only the snapshots that happened on a day with a missed snapshot", () => {
    const taken = day.filter((_, i) => i !== 7);
    const [row] = rollupDay(
      taken,
      taken.map((t) => sample("vm-7", t)),
    );
    expect(row).toMatchObject({ TotalSamples: 23, SamplesPresent: 23, AvgIsPresent: 1, AvgVcpuCount: 2 });
  });

  it("pools outside the four tiers carry no tier share", () => {
    const [row] = rollupDay(
      day,
      day.map((t) => sample("vm-8", t, { ResourcePool: "Resources" })),
    );
    expect(row).toMatchObject({ PoolTinPct: 0, PoolBronzePct: 0, PoolSilverPct: 0, PoolGoldPct: 0, Gold: 0 });
  });
});

describe("rollupMonth", () => {
  it("weights each day by its sample count", () => {
    const day1 = rollupDay(
      hours(0, 24),
      hours(0, 24).map((t) => sample("vm-1", t)),
    );
    const d2 = hours(24, 44);
    const day2 = rollupDay(
      d2,
      d2.slice(10).map((t) => sample("vm-1", t, { VcpuCount: 4 })),
    );
    const [row] = rollupMonth([
      { totalSamples: 24, rows: day1 },
      { totalSamples: 20, rows: day2 },
    ]);
    expect(row?.TotalSamples).toBe(44);
    expect(row?.SamplesPresent).toBe(34);
    expect(row?.AvgVcpuCount).toBe(2); // (2·24 + 2·20) / 44: day 2 averages 40/20
    expect(row?.AvgIsPresent).toBeCloseTo(34 / 44, 15);
    expect(row?.PoolGoldPct).toBeCloseTo(100, 12);
    expect(row?.Gold).toBeCloseTo(34 / 44, 15);
  });

  it("counts the days a VM did not exist in the monthly total", () => {
    const empty = { totalSamples: 24, rows: [] };
    const full = rollupDay(
      hours(0, 24),
      hours(0, 24).map((t) => sample("vm-1", t)),
    );
    const [row] = rollupMonth([empty, { totalSamples: 24, rows: full }]);
    expect(row).toMatchObject({
      TotalSamples: 48,
      SamplesPresent: 24,
      AvgIsPresent: 0.5,
      AvgVcpuCount: 1,
      PoolGoldPct: 50,
    });
  });
});

describe("rollup invariants", () => {
  const vmDay = fc.record({
    present: fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
    vcpu: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 24, maxLength: 24 }),
    pool: fc.array(fc.constantFrom("Tin", "Bronze", "Silver", "Gold"), { minLength: 24, maxLength: 24 }),
  });

  it("keeps presence in [0,1], pool shares summing to 100, and monthly sums equal to daily sums", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(vmDay, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        (month) => {
          const days = month.map((vms, d) => {
            const times = hours(24 * d, 24 * d + 24);
            const samples = vms.flatMap((vm, v) =>
              times.flatMap((t, i) =>
                vm.present[i] ? [sample(`vm-${v}`, t, { VcpuCount: vm.vcpu[i], ResourcePool: vm.pool[i] })] : [],
              ),
            );
            return { totalSamples: 24, rows: rollupDay(times, samples) };
          });
          for (const day of days) {
            for (const r of day.rows) {
              expect(r.AvgIsPresent).toBeGreaterThanOrEqual(0);
              expect(r.AvgIsPresent).toBeLessThanOrEqual(1);
              expect(r.PoolTinPct + r.PoolBronzePct + r.PoolSilverPct + r.PoolGoldPct).toBeCloseTo(100, 9);
              expect(r.Tin + r.Bronze + r.Silver + r.Gold).toBeCloseTo(r.AvgIsPresent, 12);
            }
          }
          const monthly = rollupMonth(days);
          for (const m of monthly) {
            const dailyRows = days.flatMap((d) =>
              d.rows.filter((r) => r.VmId === m.VmId).map((r) => ({ r, w: d.totalSamples })),
            );
            const sum = (f: (r: (typeof dailyRows)[number]["r"]) => number) =>
              dailyRows.reduce((s, { r, w }) => s + f(r) * w, 0);
            expect(m.AvgVcpuCount * m.TotalSamples).toBeCloseTo(
              sum((r) => r.AvgVcpuCount),
              6,
            );
            expect(m.AvgIsPresent * m.TotalSamples).toBeCloseTo(
              sum((r) => r.AvgIsPresent),
              9,
            );
            expect(m.Gold * m.TotalSamples).toBeCloseTo(
              sum((r) => r.Gold),
              9,
            );
            expect(m.SamplesPresent).toBe(dailyRows.reduce((s, { r }) => s + r.SamplesPresent, 0));
            expect(m.AvgIsPresent).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a VM present all month at constant size has monthly averages equal to its size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 1, max: 128 }),
        fc.integer({ min: 1, max: 4096 }),
        (n, vcpu, ram) => {
          const days = Array.from({ length: n }, (_, d) => {
            const times = hours(24 * d, 24 * d + 24);
            return {
              totalSamples: 24,
              rows: rollupDay(
                times,
                times.map((t) => sample("vm-1", t, { VcpuCount: vcpu, RamGB: ram })),
              ),
            };
          });
          const [m] = rollupMonth(days);
          expect(m?.AvgVcpuCount).toBeCloseTo(vcpu, 9);
          expect(m?.AvgRamGB).toBeCloseTo(ram, 9);
          expect(m?.AvgIsPresent).toBeCloseTo(1, 12);
        },
      ),
    );
  });
});

describe("hourlyTotals", () => {
  it("uses the snapshot after the hour and prorates by creation and deletion", () => {
    const rows = [
      sample("vm-1", hour(11)),
      sample("vm-2", hour(11), { CreationTime: hour(10) + 900, VcpuCount: 4 }),
      sample("vm-3", hour(11), { DeletionTime: hour(10) + 1800, ResourcePool: "Tin" }),
      sample("vm-4", hour(11), { CreationTime: hour(10) + 3600 }),
    ];
    const t = hourlyTotals(hour(10), hour(11), rows);
    expect(t.vmCount).toBe(1 + 0.75 + 0.5);
    expect(t.vcpus).toBe(2 + 3 + 1);
    expect(t.tiers).toEqual({ Tin: 0.5, Bronze: 0, Silver: 0, Gold: 1.75 });
  });
});

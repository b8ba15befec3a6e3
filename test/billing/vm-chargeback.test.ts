import { describe, expect, it } from "vitest";
import { Money, roundMinor } from "../../src/billing/decimal.js";
import { parseRateCard, RateCardError } from "../../src/billing/rate-card.js";
import { type ChargeableVm, chargeback, chargeVm, dayPeriod, monthPeriod } from "../../src/billing/vm-chargeback.js";

const card = parseRateCard({
  Tin: { vcpu_hour: 0.01, ram_gb_hour: "0.005", disk_gb_month: 0.02 },
  Bronze: { vcpu_hour: 0.02, ram_gb_hour: 0.01, disk_gb_month: 0.04 },
  Silver: { vcpu_hour: 0.03, ram_gb_hour: 0.015, disk_gb_month: 0.06 },
  Gold: { vcpu_hour: 0.05, ram_gb_hour: 0.025, disk_gb_month: 0.1 },
});

const vm = (over: Partial<ChargeableVm>): ChargeableVm => ({
  VmId: "vm-1",
  Name: "web",
  Vcenter: "vc",
  Cluster: "C0",
  tenant: "acme",
  AvgIsPresent: 1,
  AvgVcpuCount: 2,
  AvgRamGB: 4,
  AvgProvisionedDisk: 100,
  Tin: 0,
  Bronze: 0,
  Silver: 0,
  Gold: 1,
  ...over,
});

describe("VM chargeback", () => {
  it("prices a full day in Gold", () => {
    // 2 vCPU × 24 h × 0.05 = 2.4; 4 GB × 24 h × 0.025 = 2.4; 100 GB × (1/30) month × 0.1 = 0.3333…
    const c = chargeVm(vm({}), dayPeriod("2026-11-02"), card);
    expect(c.vcpu_hours).toBe("48");
    expect(c.ram_gb_hours).toBe("96");
    expect(new Money(c.amount).toDecimalPlaces(10).toFixed()).toBe("5.1333333333");
    expect(c.tiers.Gold).toBe(c.amount);
  });

  it("splits a day moved from Tin to Gold by time share", () => {
    // A quarter of the day in Tin, three quarters in Gold, 1 vCPU, no RAM or disk.
    const c = chargeVm(
      vm({ AvgVcpuCount: 1, AvgRamGB: 0, AvgProvisionedDisk: 0, Tin: 0.25, Gold: 0.75 }),
      dayPeriod("2026-11-02"),
      card,
    );
    expect(c.tiers.Tin).toBe("0.06"); // 24 × 0.25 × 0.01
    expect(c.tiers.Gold).toBe("0.9"); // 24 × 0.75 × 0.05
    expect(c.amount).toBe("0.96");
  });

  it("prices a half-present VM by what it used", () => {
    // Present half the day at 4 vCPU: AvgVcpuCount = 2, AvgIsPresent = 0.5, Silver = 0.5 (all its time in Silver).
    const c = chargeVm(
      vm({ AvgIsPresent: 0.5, AvgVcpuCount: 2, AvgRamGB: 0, AvgProvisionedDisk: 0, Gold: 0, Silver: 0.5 }),
      dayPeriod("2026-11-02"),
      card,
    );
    expect(c.amount).toBe("1.44"); // 48 vCPU-h × 0.03
  });

  it("charges a month with monthly disk prices and rounds totals half-even", () => {
    const m = chargeVm(vm({ AvgVcpuCount: 0, AvgRamGB: 0, AvgProvisionedDisk: 10 }), monthPeriod("2026-02"), card);
    expect(m.disk_gb_months).toBe("10");
    expect(m.amount).toBe("1");
    expect(monthPeriod("2026-02").hours).toBe(672);
    expect(roundMinor(new Money("0.125"))).toBe("0.12");
    expect(roundMinor(new Money("0.135"))).toBe("0.14");
  });

  it("groups per tenant and sets node-charged clusters apart", () => {
    const result = chargeback(
      [
        vm({ VmId: "a", tenant: "acme", AvgRamGB: 0, AvgProvisionedDisk: 0 }),
        vm({ VmId: "b", tenant: "acme", AvgRamGB: 0, AvgProvisionedDisk: 0, Gold: 0, Tin: 1 }),
        vm({ VmId: "c", tenant: "beta", Cluster: "GPU-1" }),
        vm({ VmId: "d", tenant: "beta", AvgVcpuCount: 1, AvgRamGB: 0, AvgProvisionedDisk: 0, Gold: 0, Bronze: 1 }),
      ],
      dayPeriod("2026-11-02"),
      card,
      "GBP",
      (cluster) => cluster.startsWith("GPU"),
    );
    expect(result.tenants).toEqual([
      {
        tenant: "acme",
        vms: 2,
        vcpu_hours: "96",
        ram_gb_hours: "0",
        disk_gb_months: "0",
        tiers: { Tin: "0.48", Bronze: "0", Silver: "0", Gold: "2.4" },
        amount: "2.88",
        total: "2.88",
      },
      {
        tenant: "beta",
        vms: 1,
        vcpu_hours: "24",
        ram_gb_hours: "0",
        disk_gb_months: "0",
        tiers: { Tin: "0", Bronze: "0.48", Silver: "0", Gold: "0" },
        amount: "0.48",
        total: "0.48",
      },
    ]);
    expect(result.node_charged).toEqual([{ VmId: "c", Name: "web", Vcenter: "vc", Cluster: "GPU-1", tenant: "beta" }]);
    expect(result.total).toBe("3.36");
  });

  it("rejects a bad rate and prices nothing without a card", () => {
    expect(() => parseRateCard({ Tin: { vcpu_hour: "-1", ram_gb_hour: 0, disk_gb_month: 0 } } as never)).toThrow(
      RateCardError,
    );
    expect(() => parseRateCard({ Gold: { vcpu_hour: "abc", ram_gb_hour: 0, disk_gb_month: 0 } } as never)).toThrow(
      /billing\.rate_card\.Gold\.vcpu_hour/,
    );
    expect(chargeVm(vm({}), dayPeriod("2026-11-02"), parseRateCard(undefined)).amount).toBe("0");
  });
});

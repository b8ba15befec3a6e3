import { TIERS, type Tier } from "../usage/vm-rollup.js";
import { Money, roundMinor } from "./decimal.js";
import type { RateCard } from "./rate-card.js";

/** What chargeback needs of a daily or monthly rollup row. */
export interface ChargeableVm {
  VmId: string;
  Name: string;
  Vcenter: string;
  Cluster: string;
  tenant: string;
  AvgIsPresent: number;
  AvgVcpuCount: number;
  AvgRamGB: number;
  AvgProvisionedDisk: number;
  Tin: number;
  Bronze: number;
  Silver: number;
  Gold: number;
}

export interface ChargePeriod {
  /** Hours in the period (24 for a day; days × 24 for a month). */
  hours: number;
  /** The period as a fraction of its month (1/days for a day; 1 for a month), for per-month disk prices. */
  monthFraction: Money;
}

export interface VmCharge {
  VmId: string;
  Name: string;
  Vcenter: string;
  tenant: string;
  vcpu_hours: string;
  ram_gb_hours: string;
  disk_gb_months: string;
  tiers: Record<Tier, string>;
  amount: string;
}

export interface TenantCharge {
  tenant: string;
  vms: number;
  vcpu_hours: string;
  ram_gb_hours: string;
  disk_gb_months: string;
  tiers: Record<Tier, string>;
  /** Exact sum of the VM amounts. */
  amount: string;
  /** The amount rounded to the currency's minor unit (banker's rounding). */
  total: string;
}

export interface Chargeback {
  currency: string;
  tenants: TenantCharge[];
  /** VMs in node-charged clusters: listed for completeness, priced by node elsewhere. */
  node_charged: { VmId: string; Name: string; Vcenter: string; Cluster: string; tenant: string }[];
  total: string;
}

const zeroTiers = (): Record<Tier, Money> => ({
  Tin: new Money(0),
  Bronze: new Money(0),
  Silver: new Money(0),
  Gold: new Money(0),
});
const fixed = (tiers: Record<Tier, Money>): Record<Tier, string> => ({
  Tin: tiers.Tin.toFixed(),
  Bronze: tiers.Bronze.toFixed(),
  Silver: tiers.Silver.toFixed(),
  Gold: tiers.Gold.toFixed(),
});

/**
 * Prices one VM for a period. The rollup's averages are already presence-weighted (Σ over samples / all samples),
 * so AvgVcpuCount × hours is the vCPU-hours the VM used. They are split across tiers by the share of its present
 * time spent in each tier's pool, Tier / AvgIsPresent, and priced at that tier's rates. Disk is priced per GB-month.
 */
export function chargeVm(vm: ChargeableVm, period: ChargePeriod, card: RateCard): VmCharge {
  const vcpuHours = new Money(vm.AvgVcpuCount).times(period.hours);
  const ramHours = new Money(vm.AvgRamGB).times(period.hours);
  const diskMonths = new Money(vm.AvgProvisionedDisk).times(period.monthFraction);
  const tiers = zeroTiers();
  let amount = new Money(0);
  if (vm.AvgIsPresent > 0) {
    const present = new Money(vm.AvgIsPresent);
    for (const tier of TIERS) {
      if (vm[tier] <= 0) continue;
      const share = new Money(vm[tier]).dividedBy(present);
      const rates = card[tier];
      const cost = vcpuHours
        .times(rates.vcpu_hour)
        .plus(ramHours.times(rates.ram_gb_hour))
        .plus(diskMonths.times(rates.disk_gb_month))
        .times(share);
      tiers[tier] = cost;
      amount = amount.plus(cost);
    }
  }
  return {
    VmId: vm.VmId,
    Name: vm.Name,
    Vcenter: vm.Vcenter,
    tenant: vm.tenant,
    vcpu_hours: vcpuHours.toFixed(),
    ram_gb_hours: ramHours.toFixed(),
    disk_gb_months: diskMonths.toFixed(),
    tiers: fixed(tiers),
    amount: amount.toFixed(),
  };
}

/** Chargeback per tenant; VMs in node-charged clusters are listed apart and not priced per VM. */
export function chargeback(
  vms: readonly ChargeableVm[],
  period: ChargePeriod,
  card: RateCard,
  currency: string,
  nodeCharged: (cluster: string) => boolean = () => false,
): Chargeback {
  const tenants = new Map<
    string,
    { vms: number; vcpu: Money; ram: Money; disk: Money; tiers: Record<Tier, Money>; amount: Money }
  >();
  const node: Chargeback["node_charged"] = [];
  for (const vm of vms) {
    if (nodeCharged(vm.Cluster)) {
      node.push({ VmId: vm.VmId, Name: vm.Name, Vcenter: vm.Vcenter, Cluster: vm.Cluster, tenant: vm.tenant });
      continue;
    }
    const c = chargeVm(vm, period, card);
    const t = tenants.get(vm.tenant) ?? {
      vms: 0,
      vcpu: new Money(0),
      ram: new Money(0),
      disk: new Money(0),
      tiers: zeroTiers(),
      amount: new Money(0),
    };
    t.vms++;
    t.vcpu = t.vcpu.plus(c.vcpu_hours);
    t.ram = t.ram.plus(c.ram_gb_hours);
    t.disk = t.disk.plus(c.disk_gb_months);
    for (const tier of TIERS) t.tiers[tier] = t.tiers[tier].plus(c.tiers[tier]);
    t.amount = t.amount.plus(c.amount);
    tenants.set(vm.tenant, t);
  }
  const rows: TenantCharge[] = [...tenants.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([tenant, t]) => ({
      tenant,
      vms: t.vms,
      vcpu_hours: t.vcpu.toFixed(),
      ram_gb_hours: t.ram.toFixed(),
      disk_gb_months: t.disk.toFixed(),
      tiers: fixed(t.tiers),
      amount: t.amount.toFixed(),
      total: roundMinor(t.amount),
    }));
  const total = rows.reduce((sum, r) => sum.plus(r.amount), new Money(0));
  return { currency, tenants: rows, node_charged: node, total: roundMinor(total) };
}

/** The period of a UTC day or of a month "YYYY-MM". */
export function dayPeriod(day: string): ChargePeriod {
  const [y, m] = day.split("-").map(Number) as [number, number];
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { hours: 24, monthFraction: new Money(1).dividedBy(daysInMonth) };
}

export function monthPeriod(month: string): ChargePeriod {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { hours: daysInMonth * 24, monthFraction: new Money(1) };
}

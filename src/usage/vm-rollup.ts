/**
 * vCTP's rollup arithmetic, as pure functions: hourly VM samples → daily rows → monthly rows, and hourly report
 * intervals. Formulas follow seed 000 exactly; the comments give each one.
 */

export const TIERS = ["Tin", "Bronze", "Silver", "Gold"] as const;
export type Tier = (typeof TIERS)[number];

/** One VM in one snapshot (vCTP's hourly snapshot row). Times are unix seconds; 0 means unknown. */
export interface VmSample {
  Vcenter: string;
  SnapshotTime: number;
  VmId: string;
  VmUuid: string;
  Name: string;
  ResourcePool: string;
  Datacenter: string;
  Cluster: string;
  Folder: string;
  ProvisionedDisk: number;
  VcpuCount: number;
  RamGB: number;
  CreationTime: number;
  DeletionTime: number;
  IsTemplate: boolean;
  PoweredOn: boolean;
  SrmPlaceholder: boolean;
}

export interface AggregateRow {
  Vcenter: string;
  VmId: string;
  VmUuid: string;
  Name: string;
  ResourcePool: string;
  Cluster: string;
  Datacenter: string;
  Folder: string;
  SamplesPresent: number;
  TotalSamples: number;
  AvgIsPresent: number;
  AvgVcpuCount: number;
  AvgRamGB: number;
  AvgProvisionedDisk: number;
  PoolTinPct: number;
  PoolBronzePct: number;
  PoolSilverPct: number;
  PoolGoldPct: number;
  Tin: number;
  Bronze: number;
  Silver: number;
  Gold: number;
  CreationTime: number;
  DeletionTime: number;
  SnapshotTime: number;
}

/** The chargeback tier of a resource pool: vCTP's pools are named after their tier (case-insensitive). */
export function tierOf(pool: string): Tier | undefined {
  const name = pool.trim().toLowerCase();
  return TIERS.find((t) => t.toLowerCase() === name);
}

const POOL_PCT = { Tin: "PoolTinPct", Bronze: "PoolBronzePct", Silver: "PoolSilverPct", Gold: "PoolGoldPct" } as const;

/**
 * Daily rollup of one vCenter's day. `snapshotTimes` are the distinct times of that vCenter's successful snapshots in
 * the day (TotalSamples counts them, whether or not a VM appears); `samples` are the VM rows of those snapshots.
 * - SamplesPresent = snapshots the VM appears in; AvgIsPresent = SamplesPresent / TotalSamples (0 without samples)
 * - AvgVcpuCount, AvgRamGB, AvgProvisionedDisk = Σ value over its samples / TotalSamples (time-weights resizes and
 *   prorates partial days)
 * - Pool*Pct = samples in that tier's pool / SamplesPresent · 100 (share of the time the VM existed)
 * - Tin…Gold = AvgIsPresent · Pool*Pct / 100 (presence-weighted share of the day in each tier)
 * - identity and placement come from the VM's last sample of the day; SnapshotTime is that sample's time;
 *   CreationTime is the largest creation time seen (0 when vCenter never gave one); DeletionTime is the first snapshot of the day after the
 *   VM's last appearance (the VM was gone), else the deletion time a sample carried, else 0.
 */
export function rollupDay(snapshotTimes: readonly number[], samples: readonly VmSample[]): AggregateRow[] {
  const times = [...new Set(snapshotTimes)].sort((a, b) => a - b);
  const total = times.length;
  const byVm = new Map<string, VmSample[]>();
  for (const s of samples) {
    const key = `${s.Vcenter}\u0000${s.VmId}`;
    const list = byVm.get(key);
    if (list) list.push(s);
    else byVm.set(key, [s]);
  }
  const rows: AggregateRow[] = [];
  for (const list of byVm.values()) {
    list.sort((a, b) => a.SnapshotTime - b.SnapshotTime);
    const present = new Set(list.map((s) => s.SnapshotTime)).size;
    const last = list[list.length - 1] as VmSample;
    const hits = { Tin: 0, Bronze: 0, Silver: 0, Gold: 0 };
    let vcpu = 0;
    let ram = 0;
    let disk = 0;
    let creation = 0;
    let carriedDeletion = 0;
    for (const s of list) {
      vcpu += s.VcpuCount;
      ram += s.RamGB;
      disk += s.ProvisionedDisk;
      const tier = tierOf(s.ResourcePool);
      if (tier) hits[tier]++;
      creation = Math.max(creation, s.CreationTime);
      carriedDeletion = Math.max(carriedDeletion, s.DeletionTime);
    }
    const goneAt = times.find((t) => t > last.SnapshotTime) ?? 0;
    const avgIsPresent = total > 0 ? present / total : 0;
    const row: AggregateRow = {
      Vcenter: last.Vcenter,
      VmId: last.VmId,
      VmUuid: last.VmUuid,
      Name: last.Name,
      ResourcePool: last.ResourcePool,
      Cluster: last.Cluster,
      Datacenter: last.Datacenter,
      Folder: last.Folder,
      SamplesPresent: present,
      TotalSamples: total,
      AvgIsPresent: avgIsPresent,
      AvgVcpuCount: total > 0 ? vcpu / total : 0,
      AvgRamGB: total > 0 ? ram / total : 0,
      AvgProvisionedDisk: total > 0 ? disk / total : 0,
      PoolTinPct: 0,
      PoolBronzePct: 0,
      PoolSilverPct: 0,
      PoolGoldPct: 0,
      Tin: 0,
      Bronze: 0,
      Silver: 0,
      Gold: 0,
      CreationTime: creation,
      DeletionTime: goneAt || carriedDeletion,
      SnapshotTime: last.SnapshotTime,
    };
    for (const tier of TIERS) {
      const pct = present > 0 ? (hits[tier] / present) * 100 : 0;
      row[POOL_PCT[tier]] = pct;
      row[tier] = (avgIsPresent * pct) / 100;
    }
    rows.push(row);
  }
  return rows.sort((a, b) => a.Vcenter.localeCompare(b.Vcenter) || a.VmId.localeCompare(b.VmId));
}

/** One day's rows of a vCenter with that day's TotalSamples (needed for days a VM did not exist). */
export interface DayInput {
  totalSamples: number;
  rows: readonly AggregateRow[];
}

/**
 * Monthly rollup of one vCenter from its daily rows. Every daily average becomes a weighted sum
 * `daily_avg × daily_TotalSamples`; monthly averages are Σ weighted sums / monthly TotalSamples (Σ of the days').
 * Pool percentages are weighted the same way: Σ (daily_pct/100 × daily_TotalSamples) / monthly TotalSamples · 100.
 * SamplesPresent is summed. Tin…Gold are the weighted averages of the daily Tin…Gold, i.e. the VM's presence-weighted
 * share of the month in each tier. Identity and placement come from the VM's last day.
 */
export function rollupMonth(days: readonly DayInput[]): AggregateRow[] {
  const monthTotal = days.reduce((sum, d) => sum + d.totalSamples, 0);
  const acc = new Map<string, { row: AggregateRow; sums: Record<string, number> }>();
  const weighted = [
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
  ] as const;
  for (const day of days) {
    for (const r of day.rows) {
      const key = `${r.Vcenter}\u0000${r.VmId}`;
      let entry = acc.get(key);
      if (!entry) {
        entry = { row: { ...r, SamplesPresent: 0, CreationTime: 0, DeletionTime: 0 }, sums: {} };
        acc.set(key, entry);
      }
      const w = day.totalSamples;
      for (const field of weighted) {
        const value = field.startsWith("Pool") ? (r[field] / 100) * w : r[field] * w;
        entry.sums[field] = (entry.sums[field] ?? 0) + value;
      }
      entry.row.SamplesPresent += r.SamplesPresent;
      if (r.SnapshotTime >= entry.row.SnapshotTime) {
        Object.assign(entry.row, {
          VmUuid: r.VmUuid,
          Name: r.Name,
          ResourcePool: r.ResourcePool,
          Cluster: r.Cluster,
          Datacenter: r.Datacenter,
          Folder: r.Folder,
          SnapshotTime: r.SnapshotTime,
        });
      }
      entry.row.CreationTime = Math.max(entry.row.CreationTime, r.CreationTime);
      entry.row.DeletionTime = Math.max(entry.row.DeletionTime, r.DeletionTime);
    }
  }
  const rows: AggregateRow[] = [];
  for (const { row, sums } of acc.values()) {
    row.TotalSamples = monthTotal;
    for (const field of weighted) {
      const sum = sums[field] ?? 0;
      const avg = monthTotal > 0 ? sum / monthTotal : 0;
      row[field] = field.startsWith("Pool") ? avg * 100 : avg;
    }
    rows.push(row);
  }
  return rows.sort((a, b) => a.Vcenter.localeCompare(b.Vcenter) || a.VmId.localeCompare(b.VmId));
}

export interface HourlyTotals {
  /** Start of the interval [hourStart, hourStart + 3600). */
  hourStart: number;
  /** The snapshot whose rows describe the hour: the first one at or after the hour's end. */
  snapshotTime: number;
  vmCount: number;
  vcpus: number;
  ramGB: number;
  provisionedDisk: number;
  tiers: Record<Tier, number>;
}

/**
 * Totals for the hour [hourStart, hourStart+3600) from the first snapshot at or after the hour's end (possibly on the
 * next day). Each VM counts by the fraction of the hour it existed: the overlap of [CreationTime, DeletionTime) with
 * the hour (unknown times mean "the whole hour").
 */
export function hourlyTotals(hourStart: number, snapshotTime: number, rows: readonly VmSample[]): HourlyTotals {
  const hourEnd = hourStart + 3600;
  const totals: HourlyTotals = {
    hourStart,
    snapshotTime,
    vmCount: 0,
    vcpus: 0,
    ramGB: 0,
    provisionedDisk: 0,
    tiers: { Tin: 0, Bronze: 0, Silver: 0, Gold: 0 },
  };
  for (const r of rows) {
    const from = r.CreationTime > 0 ? Math.max(hourStart, r.CreationTime) : hourStart;
    const to = r.DeletionTime > 0 ? Math.min(hourEnd, r.DeletionTime) : hourEnd;
    const share = Math.max(0, to - from) / 3600;
    if (share === 0) continue;
    totals.vmCount += share;
    totals.vcpus += share * r.VcpuCount;
    totals.ramGB += share * r.RamGB;
    totals.provisionedDisk += share * r.ProvisionedDisk;
    const tier = tierOf(r.ResourcePool);
    if (tier) totals.tiers[tier] += share;
  }
  return totals;
}

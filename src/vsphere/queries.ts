import type { Kysely } from "kysely";
import type { DB, VmDailyRollupTable } from "../db/types.js";
import type { AggregateRow } from "../usage/vm-rollup.js";

type RollupRow = Omit<VmDailyRollupTable, "day">;

/** A daily/monthly row with vCTP's field names, the API's contract. */
export function toAggregateRow(r: RollupRow): AggregateRow {
  return {
    Vcenter: r.vcenter,
    VmId: r.vm_id,
    VmUuid: r.vm_uuid,
    Name: r.name,
    ResourcePool: r.resource_pool,
    Cluster: r.cluster,
    Datacenter: r.datacenter,
    Folder: r.folder,
    SamplesPresent: r.samples_present,
    TotalSamples: r.total_samples,
    AvgIsPresent: r.avg_is_present,
    AvgVcpuCount: r.avg_vcpu_count,
    AvgRamGB: r.avg_ram_gb,
    AvgProvisionedDisk: r.avg_provisioned_disk,
    PoolTinPct: r.pool_tin_pct,
    PoolBronzePct: r.pool_bronze_pct,
    PoolSilverPct: r.pool_silver_pct,
    PoolGoldPct: r.pool_gold_pct,
    Tin: r.tin,
    Bronze: r.bronze,
    Silver: r.silver,
    Gold: r.gold,
    CreationTime: Number(r.creation_time),
    DeletionTime: Number(r.deletion_time),
    SnapshotTime: Number(r.snapshot_time),
  };
}

export interface Page {
  limit: number;
  offset: number;
}

export async function dailyRows(db: Kysely<DB>, day: string, vcenter: string | undefined, page: Page) {
  let q = db.selectFrom("vm_daily_rollup").selectAll().where("day", "=", day);
  if (vcenter) q = q.where("vcenter", "=", vcenter);
  const rows = await q.orderBy("vcenter").orderBy("vm_id").limit(page.limit).offset(page.offset).execute();
  return rows.map(toAggregateRow);
}

export async function monthlyRows(db: Kysely<DB>, month: string, vcenter: string | undefined, page: Page) {
  let q = db.selectFrom("vm_monthly_rollup").selectAll().where("month", "=", month);
  if (vcenter) q = q.where("vcenter", "=", vcenter);
  const rows = await q.orderBy("vcenter").orderBy("vm_id").limit(page.limit).offset(page.offset).execute();
  return rows.map(toAggregateRow);
}

export async function listSnapshotRuns(db: Kysely<DB>, vcenter: string | undefined, page: Page) {
  let q = db
    .selectFrom("vsphere_snapshots")
    .select(["vcenter", "snapshot_time", "rows", "status", "error", "duration_ms", "round_trips", "attempts"]);
  if (vcenter) q = q.where("vcenter", "=", vcenter);
  const rows = await q
    .orderBy("snapshot_time", "desc")
    .orderBy("vcenter")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map((r) => ({
    ...r,
    snapshot_time: Number(r.snapshot_time),
    snapshot_at: new Date(Number(r.snapshot_time) * 1000).toISOString(),
  }));
}

export interface TracePoint {
  time: number;
  present: number;
  VcpuCount: number;
  RamGB: number;
  ProvisionedDisk: number;
  ResourcePool: string;
  Name: string;
}

/**
 * A VM's history. Hourly: one point per snapshot of its vCenter in the window, with present = 0 where the VM was
 * missing. Daily: one point per day from the daily rollup (AvgIsPresent and the averages).
 */
export async function vmTrace(
  db: Kysely<DB>,
  vmId: string,
  view: "hourly" | "daily",
  from: number,
  to: number,
  vcenterHint?: string,
): Promise<{ vcenter: string | null; points: TracePoint[] }> {
  // Managed object ids (vm-42) repeat across vCenters; without a vCenter the one that saw the VM last is meant.
  const vcenter =
    vcenterHint ??
    (
      await db
        .selectFrom("vm_samples")
        .select("vcenter")
        .where("vm_id", "=", vmId)
        .orderBy("snapshot_time", "desc")
        .limit(1)
        .executeTakeFirst()
    )?.vcenter ??
    (
      await db
        .selectFrom("vm_daily_rollup")
        .select("vcenter")
        .where("vm_id", "=", vmId)
        .orderBy("day", "desc")
        .limit(1)
        .executeTakeFirst()
    )?.vcenter;
  if (!vcenter) return { vcenter: null, points: [] };
  if (view === "daily") {
    const rows = await db
      .selectFrom("vm_daily_rollup")
      .selectAll()
      .where("vm_id", "=", vmId)
      .where("vcenter", "=", vcenter)
      .where("day", ">=", new Date(from * 1000).toISOString().slice(0, 10))
      .where("day", "<=", new Date(to * 1000).toISOString().slice(0, 10))
      .orderBy("day")
      .execute();
    return {
      vcenter: rows.length > 0 ? vcenter : null,
      points: rows.map((r) => ({
        time: Date.parse(`${r.day}T00:00:00Z`) / 1000,
        present: r.avg_is_present,
        VcpuCount: r.avg_vcpu_count,
        RamGB: r.avg_ram_gb,
        ProvisionedDisk: r.avg_provisioned_disk,
        ResourcePool: r.resource_pool,
        Name: r.name,
      })),
    };
  }
  const samples = await db
    .selectFrom("vm_samples")
    .select(["vcenter", "snapshot_time", "vcpu_count", "ram_gb", "provisioned_disk", "resource_pool", "name"])
    .where("vm_id", "=", vmId)
    .where("vcenter", "=", vcenter)
    .where("snapshot_time", ">=", from)
    .where("snapshot_time", "<=", to)
    .orderBy("snapshot_time")
    .execute();
  if (samples.length === 0) return { vcenter: null, points: [] };
  const runs = await db
    .selectFrom("vsphere_snapshots")
    .select("snapshot_time")
    .where("vcenter", "=", vcenter)
    .where("status", "=", "success")
    .where("snapshot_time", ">=", from)
    .where("snapshot_time", "<=", to)
    .orderBy("snapshot_time")
    .execute();
  const byTime = new Map(samples.map((s) => [Number(s.snapshot_time), s]));
  return {
    vcenter,
    points: runs.map(({ snapshot_time }) => {
      const s = byTime.get(Number(snapshot_time));
      return {
        time: Number(snapshot_time),
        present: s ? 1 : 0,
        VcpuCount: s?.vcpu_count ?? 0,
        RamGB: s?.ram_gb ?? 0,
        ProvisionedDisk: s?.provisioned_disk ?? 0,
        ResourcePool: s?.resource_pool ?? "",
        Name: s?.name ?? "",
      };
    }),
  };
}

export async function latestTotals(db: Kysely<DB>) {
  const rows = await db.selectFrom("vcenter_latest_totals").selectAll().orderBy("vcenter").execute();
  return rows.map((r) => ({ ...r, snapshot_time: Number(r.snapshot_time) }));
}

export async function periodTotals(db: Kysely<DB>, kind: "hourly" | "daily" | "monthly", from: number, to: number) {
  const rows = await db
    .selectFrom("vcenter_aggregate_totals")
    .selectAll()
    .where("kind", "=", kind)
    .where("period_start", ">=", from)
    .where("period_start", "<=", to)
    .orderBy("period_start")
    .orderBy("vcenter")
    .execute();
  return rows.map((r) => ({ ...r, period_start: Number(r.period_start) }));
}

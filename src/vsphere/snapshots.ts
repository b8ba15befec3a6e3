import { type Kysely, sql } from "kysely";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";
import { hourlyTotals, tierOf, type VmSample } from "../usage/vm-rollup.js";
import type { VmSample as CollectedVm } from "./collect/sample.js";

// SQLite binds at most 32766 parameters per statement; 17 columns × 1000 rows stays below it.
const INSERT_CHUNK = 1000;

export interface SnapshotRun {
  vcenter: string;
  /** Unix seconds. */
  snapshotTime: number;
  rows: readonly CollectedVm[];
  durationMs: number;
  roundTrips: number;
  attempts: number;
}

/** The sample row of a collected VM (vCTP's hourly snapshot row). */
export function toSample(vcenter: string, snapshotTime: number, vm: CollectedVm): VmSample {
  return { ...vm, Vcenter: vcenter, SnapshotTime: snapshotTime, DeletionTime: 0 };
}

/**
 * Stores a whole snapshot in one transaction — every row, the registry entry and the caches, or nothing.
 * VMs present in the previous snapshot but missing now get this snapshot's time as DeletionTime on their last row,
 * which carries the deletion into the day's rollup even when the VM vanished across midnight.
 */
export async function storeSnapshot(db: Kysely<DB>, run: SnapshotRun, now = new Date()): Promise<void> {
  const { vcenter, snapshotTime } = run;
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom("vm_samples")
      .where("vcenter", "=", vcenter)
      .where("snapshot_time", "=", snapshotTime)
      .execute();
    const rows = run.rows.map((vm) => ({
      vcenter,
      snapshot_time: snapshotTime,
      vm_id: vm.VmId,
      vm_uuid: vm.VmUuid,
      instance_uuid: vm.InstanceUuid,
      name: vm.Name,
      resource_pool: vm.ResourcePool,
      datacenter: vm.Datacenter,
      cluster: vm.Cluster,
      folder: vm.Folder,
      provisioned_disk: vm.ProvisionedDisk,
      vcpu_count: vm.VcpuCount,
      ram_gb: vm.RamGB,
      creation_time: vm.CreationTime,
      deletion_time: 0,
      is_template: vm.IsTemplate ? 1 : 0,
      powered_on: vm.PoweredOn ? 1 : 0,
      srm_placeholder: vm.SrmPlaceholder ? 1 : 0,
    }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx
        .insertInto("vm_samples")
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }

    const previousTime = await previousSnapshot(trx, vcenter, snapshotTime);
    if (previousTime !== undefined) {
      await trx
        .updateTable("vm_samples as p")
        .set({ deletion_time: snapshotTime })
        .where("p.vcenter", "=", vcenter)
        .where("p.snapshot_time", "=", previousTime)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("vm_samples as n")
                .select("n.vm_id")
                .where("n.vcenter", "=", vcenter)
                .where("n.snapshot_time", "=", snapshotTime)
                .whereRef("n.vm_id", "=", "p.vm_id"),
            ),
          ),
        )
        .execute();
    }

    await trx
      .insertInto("vsphere_snapshots")
      .values({
        vcenter,
        snapshot_time: snapshotTime,
        status: "success",
        rows: rows.length,
        duration_ms: Math.round(run.durationMs),
        round_trips: run.roundTrips,
        attempts: run.attempts,
        error: null,
        created_at: iso(now),
      })
      .onConflict((oc) =>
        oc.columns(["vcenter", "snapshot_time"]).doUpdateSet({
          status: "success",
          rows: rows.length,
          duration_ms: Math.round(run.durationMs),
          round_trips: run.roundTrips,
          attempts: run.attempts,
          error: null,
        }),
      )
      .execute();

    const current = run.rows.map((vm) => toSample(vcenter, snapshotTime, vm));
    await refreshCaches(trx, vcenter, snapshotTime, previousTime, current);
  });
}

export async function recordFailedSnapshot(
  db: Kysely<DB>,
  vcenter: string,
  snapshotTime: number,
  error: string,
  attempts: number,
  now = new Date(),
): Promise<void> {
  await db
    .insertInto("vsphere_snapshots")
    .values({
      vcenter,
      snapshot_time: snapshotTime,
      status: "failed",
      rows: 0,
      duration_ms: 0,
      round_trips: 0,
      attempts,
      error: error.slice(0, 2000),
      created_at: iso(now),
    })
    .onConflict((oc) =>
      // A failed retry never overwrites a snapshot that already succeeded at the same time.
      oc
        .columns(["vcenter", "snapshot_time"])
        .doUpdateSet({ attempts, error: error.slice(0, 2000) })
        .where("vsphere_snapshots.status", "!=", "success"),
    )
    .execute();
}

export function fromRow(r: DB["vm_samples"]): VmSample {
  return {
    Vcenter: r.vcenter,
    SnapshotTime: Number(r.snapshot_time),
    VmId: r.vm_id,
    VmUuid: r.vm_uuid,
    Name: r.name,
    ResourcePool: r.resource_pool,
    Datacenter: r.datacenter,
    Cluster: r.cluster,
    Folder: r.folder,
    ProvisionedDisk: r.provisioned_disk,
    VcpuCount: r.vcpu_count,
    RamGB: r.ram_gb,
    CreationTime: Number(r.creation_time),
    DeletionTime: Number(r.deletion_time),
    IsTemplate: r.is_template === 1,
    PoweredOn: r.powered_on === 1,
    SrmPlaceholder: r.srm_placeholder === 1,
  };
}

type Trx = Kysely<DB>;

/** The hours [H, H+1h) whose end lies in (previous, current]: this snapshot is the first at or after their end. */
async function storeHourlyTotals(
  trx: Trx,
  vcenter: string,
  previousTime: number | undefined,
  snapshotTime: number,
  rows: VmSample[],
): Promise<void> {
  const lastHourEnd = Math.floor(snapshotTime / 3600) * 3600;
  const firstHourEnd = previousTime === undefined ? lastHourEnd : Math.floor(previousTime / 3600) * 3600 + 3600;
  for (let end = Math.max(firstHourEnd, lastHourEnd - 48 * 3600); end <= lastHourEnd; end += 3600) {
    const t = hourlyTotals(end - 3600, snapshotTime, rows);
    const values = {
      vm_count: t.vmCount,
      vcpus: t.vcpus,
      ram_gb: t.ramGB,
      provisioned_disk: t.provisionedDisk,
      tin: t.tiers.Tin,
      bronze: t.tiers.Bronze,
      silver: t.tiers.Silver,
      gold: t.tiers.Gold,
    };
    await trx
      .insertInto("vcenter_aggregate_totals")
      .values({ vcenter, kind: "hourly", period_start: end - 3600, ...values })
      .onConflict((oc) => oc.columns(["vcenter", "kind", "period_start"]).doUpdateSet(values))
      .execute();
  }
}

async function storeLatestTotals(trx: Trx, vcenter: string, snapshotTime: number, rows: VmSample[]): Promise<void> {
  const tiers = { Tin: 0, Bronze: 0, Silver: 0, Gold: 0 };
  for (const r of rows) {
    const tier = tierOf(r.ResourcePool);
    if (tier) tiers[tier]++;
  }
  const values = {
    snapshot_time: snapshotTime,
    vm_count: rows.length,
    vcpus: rows.reduce((s, r) => s + r.VcpuCount, 0),
    ram_gb: rows.reduce((s, r) => s + r.RamGB, 0),
    provisioned_disk: rows.reduce((s, r) => s + r.ProvisionedDisk, 0),
    tin: tiers.Tin,
    bronze: tiers.Bronze,
    silver: tiers.Silver,
    gold: tiers.Gold,
  };
  await trx
    .insertInto("vcenter_latest_totals")
    .values({ vcenter, ...values })
    .onConflict((oc) =>
      oc.column("vcenter").doUpdateSet(values).where("vcenter_latest_totals.snapshot_time", "<=", snapshotTime),
    )
    .execute();
}

/** Recomputes the hourly-interval and latest-totals caches of one stored snapshot from its samples. */
export async function rebuildSnapshotCaches(db: Kysely<DB>, vcenter: string, snapshotTime: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await refreshCaches(trx, vcenter, snapshotTime, await previousSnapshot(trx, vcenter, snapshotTime));
  });
}

async function previousSnapshot(trx: Trx, vcenter: string, snapshotTime: number): Promise<number | undefined> {
  const previous = await trx
    .selectFrom("vsphere_snapshots")
    .select(sql<number>`max(snapshot_time)`.as("t"))
    .where("vcenter", "=", vcenter)
    .where("status", "=", "success")
    .where("snapshot_time", "<", snapshotTime)
    .executeTakeFirst();
  return previous?.t === null || previous?.t === undefined ? undefined : Number(previous.t);
}

/**
 * The caches a snapshot feeds: hourly intervals it closes (counting VMs that vanished since the previous snapshot,
 * prorated by their deletion time) and the vCenter's latest totals. `current` spares re-reading rows just written.
 */
async function refreshCaches(
  trx: Trx,
  vcenter: string,
  snapshotTime: number,
  previousTime: number | undefined,
  current?: VmSample[],
): Promise<void> {
  const rowsAt = async (time: number) =>
    (
      await trx
        .selectFrom("vm_samples")
        .selectAll()
        .where("vcenter", "=", vcenter)
        .where("snapshot_time", "=", time)
        .execute()
    ).map(fromRow);
  const now = current ?? (await rowsAt(snapshotTime));
  const vanished =
    previousTime === undefined
      ? []
      : (
          await trx
            .selectFrom("vm_samples")
            .selectAll()
            .where("vcenter", "=", vcenter)
            .where("snapshot_time", "=", previousTime)
            .where("deletion_time", "=", snapshotTime)
            .execute()
        ).map(fromRow);
  await storeHourlyTotals(trx, vcenter, previousTime, snapshotTime, [...now, ...vanished]);
  await storeLatestTotals(trx, vcenter, snapshotTime, now);
}

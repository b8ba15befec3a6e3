import type { CreateTableBuilder, Kysely } from "kysely";
import type { Dialect } from "../connect.js";
import { floatType, serialId } from "./columns.js";

/**
 * vCenter snapshots live in one samples table keyed by (vcenter, snapshot_time, vm_id) with a registry row per
 * run, instead of vCTP's table per snapshot: regenerating a day is a range scan, not a table hunt.
 * Times here are unix seconds (vCTP's unit); days are UTC `YYYY-MM-DD`, months `YYYY-MM`.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const float = floatType(dialect);

  await serialId(db.schema.createTable("vsphere_snapshots"), dialect)
    .addColumn("vcenter", "text", (c) => c.notNull())
    .addColumn("snapshot_time", "bigint", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("rows", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("duration_ms", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("round_trips", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("vsphere_snapshots_run", ["vcenter", "snapshot_time"])
    .execute();
  await db.schema
    .createIndex("vsphere_snapshots_time")
    .on("vsphere_snapshots")
    .columns(["snapshot_time", "vcenter"])
    .execute();

  // Column lists are shared by three tables, so the builder is handled with plain string column names.
  const vmColumns = (table: CreateTableBuilder<string, string>) =>
    table
      .addColumn("vm_uuid", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("resource_pool", "text", (c) => c.notNull())
      .addColumn("datacenter", "text", (c) => c.notNull())
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("folder", "text", (c) => c.notNull())
      .addColumn("creation_time", "bigint", (c) => c.notNull())
      .addColumn("deletion_time", "bigint", (c) => c.notNull());

  await vmColumns(
    db.schema
      .createTable("vm_samples")
      .addColumn("vcenter", "text", (c) => c.notNull())
      .addColumn("snapshot_time", "bigint", (c) => c.notNull())
      .addColumn("vm_id", "text", (c) => c.notNull()) as CreateTableBuilder<string, string>,
  )
    .addColumn("instance_uuid", "text", (c) => c.notNull())
    .addColumn("provisioned_disk", float, (c) => c.notNull())
    .addColumn("vcpu_count", "integer", (c) => c.notNull())
    .addColumn("ram_gb", float, (c) => c.notNull())
    .addColumn("is_template", "integer", (c) => c.notNull())
    .addColumn("powered_on", "integer", (c) => c.notNull())
    .addColumn("srm_placeholder", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("vm_samples_pk", ["vcenter", "snapshot_time", "vm_id"])
    .execute();
  await db.schema.createIndex("vm_samples_vm").on("vm_samples").columns(["vm_id", "snapshot_time"]).execute();

  for (const [table, period] of [
    ["vm_daily_rollup", "day"],
    ["vm_monthly_rollup", "month"],
  ] as const) {
    await vmColumns(
      db.schema
        .createTable(table)
        .addColumn(period, "text", (c) => c.notNull())
        .addColumn("vcenter", "text", (c) => c.notNull())
        .addColumn("vm_id", "text", (c) => c.notNull()) as CreateTableBuilder<string, string>,
    )
      .addColumn("snapshot_time", "bigint", (c) => c.notNull())
      .addColumn("samples_present", "integer", (c) => c.notNull())
      .addColumn("total_samples", "integer", (c) => c.notNull())
      .addColumn("avg_is_present", float, (c) => c.notNull())
      .addColumn("avg_vcpu_count", float, (c) => c.notNull())
      .addColumn("avg_ram_gb", float, (c) => c.notNull())
      .addColumn("avg_provisioned_disk", float, (c) => c.notNull())
      .addColumn("pool_tin_pct", float, (c) => c.notNull())
      .addColumn("pool_bronze_pct", float, (c) => c.notNull())
      .addColumn("pool_silver_pct", float, (c) => c.notNull())
      .addColumn("pool_gold_pct", float, (c) => c.notNull())
      .addColumn("tin", float, (c) => c.notNull())
      .addColumn("bronze", float, (c) => c.notNull())
      .addColumn("silver", float, (c) => c.notNull())
      .addColumn("gold", float, (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, [period, "vcenter", "vm_id"])
      .execute();
    await db.schema.createIndex(`${table}_vm`).on(table).columns(["vm_id", period]).execute();
  }

  await db.schema
    .createTable("vcenter_aggregate_totals")
    .addColumn("vcenter", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("period_start", "bigint", (c) => c.notNull())
    .addColumn("vm_count", float, (c) => c.notNull())
    .addColumn("vcpus", float, (c) => c.notNull())
    .addColumn("ram_gb", float, (c) => c.notNull())
    .addColumn("provisioned_disk", float, (c) => c.notNull())
    .addColumn("tin", float, (c) => c.notNull())
    .addColumn("bronze", float, (c) => c.notNull())
    .addColumn("silver", float, (c) => c.notNull())
    .addColumn("gold", float, (c) => c.notNull())
    .addPrimaryKeyConstraint("vcenter_aggregate_totals_pk", ["vcenter", "kind", "period_start"])
    .execute();

  await db.schema
    .createTable("vcenter_latest_totals")
    .addColumn("vcenter", "text", (c) => c.primaryKey())
    .addColumn("snapshot_time", "bigint", (c) => c.notNull())
    .addColumn("vm_count", float, (c) => c.notNull())
    .addColumn("vcpus", float, (c) => c.notNull())
    .addColumn("ram_gb", float, (c) => c.notNull())
    .addColumn("provisioned_disk", float, (c) => c.notNull())
    .addColumn("tin", float, (c) => c.notNull())
    .addColumn("bronze", float, (c) => c.notNull())
    .addColumn("silver", float, (c) => c.notNull())
    .addColumn("gold", float, (c) => c.notNull())
    .execute();
}

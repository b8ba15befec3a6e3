import { type Kysely, sql } from "kysely";
import type { Dialect } from "../connect.js";

/**
 * SQLite only: the daily rollup reads one day of vm_samples grouped by VM and pool. Keyed by the sample's UTC day
 * first and covering every column the rollup sums, this index lets SQLite stream the day's samples already in
 * group order, without a sort or a table lookup (measured in docs/benchmarks.md). PostgreSQL hashes the groups
 * from a sequential scan faster than it would walk such an index, so it does not get one.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== "sqlite") return;
  await sql`
    create index vm_samples_day on vm_samples (
      (snapshot_time - snapshot_time % 86400), vcenter, vm_id, resource_pool,
      snapshot_time, vcpu_count, ram_gb, provisioned_disk, creation_time, deletion_time)
  `.execute(db);
}

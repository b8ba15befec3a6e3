import { type Kysely, sql } from "kysely";
import type { Dialect } from "../../src/db/connect.js";
import { dayBounds, monthBounds } from "../../src/vsphere/aggregate.js";
import type { DB } from "../../src/db/types.js";

/**
 * Deterministic rollup inputs generated inside the database by one INSERT … SELECT each: shipping millions of rows
 * through the driver would make set-up take longer than the measurement. Every value is a function of the VM index
 * `i` and the hour or day, so both dialects hold the same data and a re-run produces the same rows.
 */

/** VMs are spread round-robin over this many vCenters, so the per-vCenter TotalSamples join has work to do. */
export const VCENTERS = 4;
const HOURS = 24;
const CREATED_AT = "2026-01-01T00:00:00.000Z";

const dbl = (dialect: Dialect, expr: string) =>
  dialect === "sqlite" ? `cast(${expr} as real)` : `cast(${expr} as double precision)`;
const text = (expr: string) => `cast(${expr} as text)`;
const pad12 = (dialect: Dialect, expr: string) =>
  dialect === "sqlite" ? `printf('%012d', ${expr})` : `lpad(${text(expr)}, 12, '0')`;
const poolName = (expr: string) =>
  `case (${expr}) % 5 when 0 then 'Tin' when 1 then 'Bronze' when 2 then 'Silver' when 3 then 'Gold' else 'Resources' end`;

/** `from` clause yielding integer columns `i` in [0, vms) and `<name>` in [0, count), VM index varying fastest. */
function grid(dialect: Dialect, vms: number, name: string, count: number): string {
  return dialect === "sqlite"
    ? `(with recursive o(k) as (select 0 union all select k + 1 from o where k + 1 < ${count}),
        v(k) as (select 0 union all select k + 1 from v where k + 1 < ${vms})
        select o.k as ${name}, v.k as i from o cross join v)`
    : `(select o as ${name}, v as i from generate_series(0, ${count - 1}) o, generate_series(0, ${vms - 1}) v)`;
}

/** Placement and identity columns shared by samples and daily rows, for VM `i` in pool `pool`. */
function identity(dialect: Dialect, pool: string): string {
  return `'vcenter-' || ${text(`i % ${VCENTERS}`)} as vcenter,
    'vm-' || ${text("i + 1")} as vm_id,
    '42000000-0000-4000-8000-' || ${pad12(dialect, "i")} as vm_uuid,
    'bench-vm-' || ${text("i")} as name,
    ${poolName(pool)} as resource_pool,
    'DC' || ${text("i % 2")} as datacenter,
    'DC' || ${text("i % 2")} || '-C' || ${text("i % 3")} as cluster,
    'apps/team-' || ${text("i % 10")} as folder`;
}

async function registry(db: Kysely<DB>, dialect: Dialect, start: number, snapshots: number, vms: number) {
  await sql
    .raw(`insert into vsphere_snapshots
      (vcenter, snapshot_time, status, rows, duration_ms, round_trips, attempts, created_at)
    select 'vcenter-' || ${text("i")}, ${start} + h * 3600, 'success', ${Math.ceil(vms / VCENTERS)}, 1000, 9, 1,
      '${CREATED_AT}'
    from ${grid(dialect, VCENTERS, "h", snapshots)} g`)
    .execute(db);
}

/**
 * One day of hourly snapshots: every VM in all 24, except 2 % created and 2 % deleted at some hour of the day
 * (so presence, deletion carry-forward and TotalSamples differ), a ninth of them moving pool and an eleventh
 * gaining a vCPU at noon.
 */
export async function generateDay(db: Kysely<DB>, dialect: Dialect, day: string, vms: number): Promise<number> {
  const { start } = dayBounds(day);
  await registry(db, dialect, start, HOURS, vms);
  // Building the secondary index after the load is several times faster than maintaining it row by row.
  await sql`drop index vm_samples_vm`.execute(db);
  const result = await sql
    .raw(`insert into vm_samples (vcenter, snapshot_time, vm_id, vm_uuid, name, resource_pool, datacenter, cluster,
      folder, creation_time, deletion_time, instance_uuid, provisioned_disk, vcpu_count, ram_gb, is_template,
      powered_on, srm_placeholder)
    select vcenter, ${start} + h * 3600, vm_id, vm_uuid, name, resource_pool, datacenter, cluster, folder,
      case when born > 0 then ${start} + born * 3600 - 600 when i % 3 = 0 then 0 else 1600000000 + i * 60 end,
      0, '50000000-0000-4000-8000-' || ${pad12(dialect, "i")},
      ${dbl(dialect, "40 + (i % 100) * 5")} / 2,
      1 + i % 8 + case when h >= 12 and i % 11 = 0 then 1 else 0 end,
      ${dbl(dialect, "2 * (1 + i % 16)")},
      case when i % 97 = 0 then 1 else 0 end, case when i % 13 = 0 then 0 else 1 end, 0
    from (
      select i, h, ${identity(dialect, "i + case when h >= 12 and i % 9 = 0 then 1 else 0 end")},
        case when i % 50 = 7 then 1 + i % 22 else 0 end as born,
        case when i % 50 = 19 then 1 + i % 22 else ${HOURS} end as gone
      from ${grid(dialect, vms, "h", HOURS)} g
    ) s
    where h >= born and h < gone`)
    .execute(db);
  await sql`create index vm_samples_vm on vm_samples (vm_id, snapshot_time)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Daily rows of the first `days` days of a month, as aggregateDaily would have written them from 24 snapshots a
 * day: 2.5 % of the VMs are created and 2.5 % deleted on some day of the month, a ninth move pool from the 15th and
 * an eleventh gain a vCPU from the 20th. The registry holds the 24 snapshots of each of those days.
 */
export async function generateMonth(
  db: Kysely<DB>,
  dialect: Dialect,
  month: string,
  days: number,
  vms: number,
): Promise<number> {
  const { start, days: monthDays } = monthBounds(month);
  if (days > monthDays.length) throw new RangeError(`${month} has only ${monthDays.length} days (asked for ${days})`);
  await registry(db, dialect, start, days * HOURS, vms);
  await sql`drop index vm_daily_rollup_vm`.execute(db);
  const day = (expr: string) =>
    dialect === "sqlite"
      ? `strftime('%Y-%m-%d', ${start} + (${expr}) * 86400, 'unixepoch')`
      : `to_char(to_timestamp(${start} + (${expr}) * 86400) at time zone 'UTC', 'YYYY-MM-DD')`;
  const isPresent = `${dbl(dialect, "present")} / ${HOURS}`;
  const pct = (tier: number) => `case when (pool % 5) = ${tier} then 100.0 else 0.0 end`;
  const result = await sql
    .raw(`insert into vm_daily_rollup (day, vcenter, vm_id, vm_uuid, name, resource_pool, datacenter, cluster,
      folder, creation_time, deletion_time, snapshot_time, samples_present, total_samples, avg_is_present,
      avg_vcpu_count, avg_ram_gb, avg_provisioned_disk, pool_tin_pct, pool_bronze_pct, pool_silver_pct,
      pool_gold_pct, tin, bronze, silver, gold)
    select ${day("d")}, vcenter, vm_id, vm_uuid, name, resource_pool, datacenter, cluster, folder,
      case when i % 40 = 3 then ${start} + (i % ${days}) * 86400 + (1 + i % 22) * 3600 - 600
        when i % 3 = 0 then 0 else 1600000000 + i * 60 end,
      case when i % 40 = 5 and d = i % ${days} then ${start} + d * 86400 + (1 + i % 22) * 3600 else 0 end,
      ${start} + d * 86400 + (last_hour * 3600), present, ${HOURS}, ${isPresent},
      ${isPresent} * (1 + i % 8 + case when d >= 19 and i % 11 = 0 then 1 else 0 end),
      ${isPresent} * ${dbl(dialect, "2 * (1 + i % 16)")},
      ${isPresent} * ${dbl(dialect, "40 + (i % 100) * 5")} / 2,
      ${pct(0)}, ${pct(1)}, ${pct(2)}, ${pct(3)},
      ${isPresent} * ${pct(0)} / 100, ${isPresent} * ${pct(1)} / 100,
      ${isPresent} * ${pct(2)} / 100, ${isPresent} * ${pct(3)} / 100
    from (
      select i, d, pool, ${identity(dialect, "pool")},
        case when i % 40 = 3 and d = i % ${days} then ${HOURS} - (1 + i % 22)
          when i % 40 = 5 and d = i % ${days} then 1 + i % 22 else ${HOURS} end as present,
        case when i % 40 = 5 and d = i % ${days} then i % 22 else ${HOURS - 1} end as last_hour
      from (
        select i, d, i + case when d >= 14 and i % 9 = 0 then 1 else 0 end as pool
        from ${grid(dialect, vms, "d", days)} g
        where not (i % 40 = 3 and d < i % ${days}) and not (i % 40 = 5 and d > i % ${days})
      ) p
    ) s`)
    .execute(db);
  await sql`create index vm_daily_rollup_vm on vm_daily_rollup (vm_id, day)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

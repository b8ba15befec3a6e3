import type { Dialect } from "../../src/db/connect.js";
import { dayBounds, monthBounds } from "../../src/vsphere/aggregate.js";

/**
 * The limit: each rollup as one hand-tuned INSERT … SELECT, run by the database's own shell into a twin of the
 * rollup table (same columns, primary key and index), so it pays the same write and index costs as ours.
 * Tuning, measured against the straightforward statement on this data (see docs/benchmarks.md):
 * - daily: samples are grouped by (vcenter, vm_id, resource_pool) first, so the tier of a pool name
 *   (lower(trim(…))) is worked out once per VM and pool instead of four times per sample;
 * - monthly: the VM's last daily row is found by its primary key (day = the VM's last day) instead of by
 *   snapshot_time through the (vm_id, day) index, which read all of the VM's days of the month.
 * Sums stay integers or doubles on PostgreSQL, where sum(bigint) would be numeric arithmetic.
 */

export type Period = "daily" | "monthly";

export const LIMIT_TABLE: Record<Period, string> = {
  daily: "limit_daily_rollup",
  monthly: "limit_monthly_rollup",
};
export const OURS_TABLE: Record<Period, string> = { daily: "vm_daily_rollup", monthly: "vm_monthly_rollup" };
export const PERIOD_COLUMN: Record<Period, string> = { daily: "day", monthly: "month" };

const OUTPUT_COLUMNS = `vcenter, vm_id, vm_uuid, name, resource_pool, datacenter, cluster, folder,
  creation_time, deletion_time, snapshot_time, samples_present, total_samples,
  avg_is_present, avg_vcpu_count, avg_ram_gb, avg_provisioned_disk,
  pool_tin_pct, pool_bronze_pct, pool_silver_pct, pool_gold_pct, tin, bronze, silver, gold`;

const TEXT_COLUMNS = ["vm_uuid", "name", "resource_pool", "datacenter", "cluster", "folder"];
const INTEGER_COLUMNS = ["creation_time", "deletion_time", "snapshot_time", "samples_present", "total_samples"];
const FLOAT_COLUMNS = [
  "avg_is_present",
  "avg_vcpu_count",
  "avg_ram_gb",
  "avg_provisioned_disk",
  "pool_tin_pct",
  "pool_bronze_pct",
  "pool_silver_pct",
  "pool_gold_pct",
  "tin",
  "bronze",
  "silver",
  "gold",
];

const float = (dialect: Dialect) => (dialect === "sqlite" ? "real" : "double precision");

export function dailyLimitSql(dialect: Dialect, day: string): string {
  const { start, end } = dayBounds(day);
  const f = float(dialect);
  const tier = (name: string) => `sum(case tier when '${name}' then n else 0 end)`;
  return `insert into ${LIMIT_TABLE.daily} (day, ${OUTPUT_COLUMNS})
select '${day}', a.vcenter, a.vm_id, l.vm_uuid, l.name, l.resource_pool, l.datacenter, l.cluster, l.folder,
  a.creation_time,
  coalesce((select min(s.snapshot_time) from vsphere_snapshots s
            where s.vcenter = a.vcenter and s.status = 'success'
              and s.snapshot_time > a.last_time and s.snapshot_time < ${end}), a.deletion_time),
  a.last_time, a.present, t.total,
  cast(a.present as ${f}) / t.total, a.vcpu / t.total, a.ram / t.total, a.disk / t.total,
  cast(a.tin as ${f}) * 100 / a.present, cast(a.bronze as ${f}) * 100 / a.present,
  cast(a.silver as ${f}) * 100 / a.present, cast(a.gold as ${f}) * 100 / a.present,
  cast(a.tin as ${f}) / t.total, cast(a.bronze as ${f}) / t.total,
  cast(a.silver as ${f}) / t.total, cast(a.gold as ${f}) / t.total
from (
  select vcenter, vm_id, sum(n) as present, sum(vcpu) as vcpu, sum(ram) as ram, sum(disk) as disk,
    ${tier("tin")} as tin, ${tier("bronze")} as bronze, ${tier("silver")} as silver, ${tier("gold")} as gold,
    max(last_time) as last_time, max(creation_time) as creation_time, max(deletion_time) as deletion_time
  from (
    select vcenter, vm_id, lower(trim(resource_pool)) as tier, cast(count(*) as integer) as n,
      cast(sum(vcpu_count) as ${f}) as vcpu, sum(ram_gb) as ram, sum(provisioned_disk) as disk,
      max(snapshot_time) as last_time, max(creation_time) as creation_time, max(deletion_time) as deletion_time
    from vm_samples
    where ${dialect === "sqlite" ? `(snapshot_time - snapshot_time % 86400) = ${start}` : `snapshot_time >= ${start} and snapshot_time < ${end}`}
    group by vcenter, vm_id, resource_pool
  ) p
  group by vcenter, vm_id
) a
join (
  select vcenter, count(*) as total from vsphere_snapshots
  where status = 'success' and snapshot_time >= ${start} and snapshot_time < ${end}
  group by vcenter
) t on t.vcenter = a.vcenter
join vm_samples l on l.vcenter = a.vcenter and l.snapshot_time = a.last_time and l.vm_id = a.vm_id`;
}

export function monthlyLimitSql(month: string): string {
  const { start, end, days } = monthBounds(month);
  const first = days[0];
  const last = days[days.length - 1];
  const w = (column: string) => `sum(${column} * total_samples)`;
  return `insert into ${LIMIT_TABLE.monthly} (month, ${OUTPUT_COLUMNS})
select '${month}', d.vcenter, d.vm_id, l.vm_uuid, l.name, l.resource_pool, l.datacenter, l.cluster, l.folder,
  d.creation_time, d.deletion_time, d.last_time, d.present, t.total,
  d.w_present / t.total, d.w_vcpu / t.total, d.w_ram / t.total, d.w_disk / t.total,
  d.w_tin_pct / t.total * 100, d.w_bronze_pct / t.total * 100,
  d.w_silver_pct / t.total * 100, d.w_gold_pct / t.total * 100,
  d.w_tin / t.total, d.w_bronze / t.total, d.w_silver / t.total, d.w_gold / t.total
from (
  select vcenter, vm_id, sum(samples_present) as present,
    ${w("avg_is_present")} as w_present, ${w("avg_vcpu_count")} as w_vcpu, ${w("avg_ram_gb")} as w_ram,
    ${w("avg_provisioned_disk")} as w_disk,
    sum(pool_tin_pct / 100 * total_samples) as w_tin_pct, sum(pool_bronze_pct / 100 * total_samples) as w_bronze_pct,
    sum(pool_silver_pct / 100 * total_samples) as w_silver_pct, sum(pool_gold_pct / 100 * total_samples) as w_gold_pct,
    ${w("tin")} as w_tin, ${w("bronze")} as w_bronze, ${w("silver")} as w_silver, ${w("gold")} as w_gold,
    max(snapshot_time) as last_time, max(day) as last_day,
    max(creation_time) as creation_time, max(deletion_time) as deletion_time
  from vm_daily_rollup
  where day >= '${first}' and day <= '${last}'
  group by vcenter, vm_id
) d
join (
  select vcenter, count(*) as total from vsphere_snapshots
  where status = 'success' and snapshot_time >= ${start} and snapshot_time < ${end}
  group by vcenter
) t on t.vcenter = d.vcenter
join vm_daily_rollup l on l.day = d.last_day and l.vcenter = d.vcenter and l.vm_id = d.vm_id`;
}

/**
 * Rows of ours that have a twin in the limit's table with equal text and integer columns and floats equal to
 * 1e-9 relative: with equal row counts on both sides, all rows then match.
 */
export function matchingRowsSql(period: Period, value: string): string {
  const key = PERIOD_COLUMN[period];
  const same = [
    ...[...TEXT_COLUMNS, ...INTEGER_COLUMNS].map((c) => `o.${c} = l.${c}`),
    ...FLOAT_COLUMNS.map((c) => `abs(o.${c} - l.${c}) <= 1e-9 * (1 + abs(o.${c}))`),
  ];
  return `select count(*) as n from ${OURS_TABLE[period]} o
join ${LIMIT_TABLE[period]} l on l.${key} = o.${key} and l.vcenter = o.vcenter and l.vm_id = o.vm_id
where o.${key} = '${value}' and ${same.join("\n  and ")}`;
}

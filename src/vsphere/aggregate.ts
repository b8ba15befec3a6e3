import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Dialect } from "../db/connect.js";
import type { DB } from "../db/types.js";

/**
 * The rollups as set-based SQL, one INSERT … SELECT per period, identical on SQLite and PostgreSQL. The formulas
 * are those of src/usage/vm-rollup.ts (the reference the tests compare against); see that file for each one.
 * Each run replaces the period's rows in one transaction, so re-running is idempotent.
 */

export class AggregateInputError extends Error {
  override name = "AggregateInputError";
}

export function dayBounds(day: string): { start: number; end: number } {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new AggregateInputError(`date must be YYYY-MM-DD (got "${day}")`);
  const start = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== day) {
    throw new AggregateInputError(`date ${day} does not exist`);
  }
  return { start: start / 1000, end: start / 1000 + 86400 };
}

export function monthBounds(month: string): { start: number; end: number; days: string[] } {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new AggregateInputError(`month must be YYYY-MM (got "${month}")`);
  const [y, m] = month.split("-").map(Number) as [number, number];
  const start = Date.UTC(y, m - 1, 1) / 1000;
  const end = Date.UTC(y, m, 1) / 1000;
  const days: string[] = [];
  for (let t = start; t < end; t += 86400) days.push(new Date(t * 1000).toISOString().slice(0, 10));
  return { start, end, days };
}

function dbl(dialect: Dialect, expr: RawBuilder<unknown>): RawBuilder<number> {
  return dialect === "sqlite" ? sql<number>`cast(${expr} as real)` : sql<number>`cast(${expr} as double precision)`;
}

export interface AggregateResult {
  rows: number;
  durationMs: number;
}

/** Daily rollup of every vCenter for one UTC day, from the hourly samples. */
export async function aggregateDaily(db: Kysely<DB>, dialect: Dialect, day: string): Promise<AggregateResult> {
  const { start, end } = dayBounds(day);
  const started = performance.now();
  const rows = await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("vm_daily_rollup").where("day", "=", day).execute();
    const result = await samplesRollupSql("vm_daily_rollup", "day", day, dialect, start, end).execute(trx);
    await storePeriodTotals(trx, "daily", "vm_daily_rollup", "day", day, start);
    return Number(result.numAffectedRows ?? 0);
  });
  return { rows, durationMs: performance.now() - started };
}

/**
 * Monthly rollup of every vCenter. From daily rows (default): each daily average weighted by the day's
 * TotalSamples, divided by the month's TotalSamples (all successful snapshots of the vCenter in the month). Days
 * that have snapshots but no daily rows yet are aggregated first. From samples: the daily formulas over the month.
 */
export async function aggregateMonthly(
  db: Kysely<DB>,
  dialect: Dialect,
  month: string,
  source: "daily" | "samples" = "daily",
): Promise<AggregateResult> {
  const { start, end, days } = monthBounds(month);
  const started = performance.now();
  if (source === "daily") await aggregateMissingDays(db, dialect, days);
  const rows = await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("vm_monthly_rollup").where("month", "=", month).execute();
    const total = sql.ref("t.total");
    const w = (column: string) => sql`sum(${sql.ref(column)} * total_samples)`;
    const result =
      source === "daily"
        ? await sql`
      insert into vm_monthly_rollup (
        month, vcenter, vm_id, vm_uuid, name, resource_pool, datacenter, cluster, folder,
        creation_time, deletion_time, snapshot_time, samples_present, total_samples,
        avg_is_present, avg_vcpu_count, avg_ram_gb, avg_provisioned_disk,
        pool_tin_pct, pool_bronze_pct, pool_silver_pct, pool_gold_pct, tin, bronze, silver, gold)
      select ${month}, d.vcenter, d.vm_id, l.vm_uuid, l.name, l.resource_pool, l.datacenter, l.cluster, l.folder,
        d.creation_time, d.deletion_time, d.last_time, d.present, ${total},
        d.w_present / ${total}, d.w_vcpu / ${total}, d.w_ram / ${total}, d.w_disk / ${total},
        d.w_tin_pct / ${total} * 100, d.w_bronze_pct / ${total} * 100,
        d.w_silver_pct / ${total} * 100, d.w_gold_pct / ${total} * 100,
        d.w_tin / ${total}, d.w_bronze / ${total}, d.w_silver / ${total}, d.w_gold / ${total}
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
        where day >= ${days[0]} and day <= ${days[days.length - 1]}
        group by vcenter, vm_id
      ) d
      join (
        select vcenter, count(*) as total from vsphere_snapshots
        where status = 'success' and snapshot_time >= ${start} and snapshot_time < ${end}
        group by vcenter
      ) t on t.vcenter = d.vcenter
      join vm_daily_rollup l on l.day = d.last_day and l.vcenter = d.vcenter and l.vm_id = d.vm_id
    `.execute(trx)
        : await samplesRollupSql("vm_monthly_rollup", "month", month, dialect, start, end).execute(trx);
    await storePeriodTotals(trx, "monthly", "vm_monthly_rollup", "month", month, start);
    return Number(result.numAffectedRows ?? 0);
  });
  return { rows, durationMs: performance.now() - started };
}

/**
 * The daily formulas over [start, end) as one INSERT … SELECT. Samples are first grouped per (VM, pool), so each
 * pool name is mapped to its tier once per group instead of once per sample, then per VM.
 */
function samplesRollupSql(
  table: "vm_daily_rollup" | "vm_monthly_rollup",
  periodColumn: "day" | "month",
  period: string,
  dialect: Dialect,
  start: number,
  end: number,
) {
  const total = sql.ref("t.total");
  const present = sql.ref("a.present");
  const isPresent = sql`${dbl(dialect, present)} / ${total}`;
  const pct = (hits: string) => sql`${dbl(dialect, sql.ref(`a.${hits}`))} * 100 / ${present}`;
  const share = (hits: string) => sql`${dbl(dialect, sql.ref(`a.${hits}`))} / ${total}`;
  const hits = (tier: string) => sql`sum(case tier when ${tier} then n else 0 end)`;
  return sql`
    insert into ${sql.table(table)} (
      ${sql.ref(periodColumn)}, vcenter, vm_id, vm_uuid, name, resource_pool, datacenter, cluster, folder,
      creation_time, deletion_time, snapshot_time, samples_present, total_samples,
      avg_is_present, avg_vcpu_count, avg_ram_gb, avg_provisioned_disk,
      pool_tin_pct, pool_bronze_pct, pool_silver_pct, pool_gold_pct, tin, bronze, silver, gold)
    select ${period}, a.vcenter, a.vm_id, l.vm_uuid, l.name, l.resource_pool, l.datacenter, l.cluster, l.folder,
      a.creation_time,
      coalesce((select min(s.snapshot_time) from vsphere_snapshots s
                where s.vcenter = a.vcenter and s.status = 'success'
                  and s.snapshot_time > a.last_time and s.snapshot_time < ${end}), a.deletion_time),
      a.last_time, a.present, ${total},
      ${isPresent},
      ${dbl(dialect, sql.ref("a.vcpu"))} / ${total},
      ${dbl(dialect, sql.ref("a.ram"))} / ${total},
      ${dbl(dialect, sql.ref("a.disk"))} / ${total},
      ${pct("tin_hits")}, ${pct("bronze_hits")}, ${pct("silver_hits")}, ${pct("gold_hits")},
      ${share("tin_hits")}, ${share("bronze_hits")}, ${share("silver_hits")}, ${share("gold_hits")}
    from (
      select vcenter, vm_id, sum(n) as present, sum(vcpu) as vcpu, sum(ram) as ram, sum(disk) as disk,
        ${hits("tin")} as tin_hits, ${hits("bronze")} as bronze_hits,
        ${hits("silver")} as silver_hits, ${hits("gold")} as gold_hits,
        max(last_time) as last_time, max(creation_time) as creation_time, max(deletion_time) as deletion_time
      from (
        select vcenter, vm_id, lower(trim(resource_pool)) as tier, count(*) as n, sum(vcpu_count) as vcpu,
          sum(ram_gb) as ram, sum(provisioned_disk) as disk, max(snapshot_time) as last_time,
          max(creation_time) as creation_time, max(deletion_time) as deletion_time
        from vm_samples
        where ${samplesIn(dialect, start, end)}
        group by vcenter, vm_id, resource_pool
      ) p
      group by vcenter, vm_id
    ) a
    join (
      select vcenter, count(*) as total from vsphere_snapshots
      where status = 'success' and snapshot_time >= ${start} and snapshot_time < ${end}
      group by vcenter
    ) t on t.vcenter = a.vcenter
    join vm_samples l on l.vcenter = a.vcenter and l.snapshot_time = a.last_time and l.vm_id = a.vm_id
  `;
}

/**
 * The samples of [start, end), which are whole UTC days. One day on SQLite is asked for as an equality on the day
 * expression of the vm_samples_day index (migration 004), which streams it in group order.
 */
function samplesIn(dialect: Dialect, start: number, end: number) {
  if (dialect === "sqlite" && end - start === 86_400 && start % 86_400 === 0) {
    return sql`(snapshot_time - snapshot_time % 86400) = ${start}`;
  }
  return sql`snapshot_time >= ${start} and snapshot_time < ${end}`;
}

async function aggregateMissingDays(db: Kysely<DB>, dialect: Dialect, days: string[]): Promise<void> {
  const first = dayBounds(days[0] as string).start;
  const last = dayBounds(days[days.length - 1] as string).end;
  // Days with successful snapshots come from the small registry; each is then checked with a primary-key probe
  // rather than a scan of the month's daily rows.
  const sampled = await db
    .selectFrom("vsphere_snapshots")
    .select(sql<string>`snapshot_time - snapshot_time % 86400`.as("d"))
    .where("status", "=", "success")
    .where("snapshot_time", ">=", first)
    .where("snapshot_time", "<", last)
    .distinct()
    .execute();
  for (const { d } of sampled) {
    const day = new Date(Number(d) * 1000).toISOString().slice(0, 10);
    const done = await db
      .selectFrom("vm_daily_rollup")
      .select("day")
      .where("day", "=", day)
      .limit(1)
      .executeTakeFirst();
    if (!done) await aggregateDaily(db, dialect, day);
  }
}

/** vcenter_aggregate_totals for one period: the sum over VMs of the presence-weighted averages. */
export async function storePeriodTotals(
  trx: Kysely<DB>,
  kind: "daily" | "monthly",
  table: "vm_daily_rollup" | "vm_monthly_rollup",
  periodColumn: "day" | "month",
  period: string,
  periodStart: number,
): Promise<void> {
  await trx
    .deleteFrom("vcenter_aggregate_totals")
    .where("kind", "=", kind)
    .where("period_start", "=", periodStart)
    .execute();
  await sql`
    insert into vcenter_aggregate_totals
      (vcenter, kind, period_start, vm_count, vcpus, ram_gb, provisioned_disk, tin, bronze, silver, gold)
    select vcenter, ${kind}, ${periodStart}, sum(avg_is_present), sum(avg_vcpu_count), sum(avg_ram_gb),
      sum(avg_provisioned_disk), sum(tin), sum(bronze), sum(silver), sum(gold)
    from ${sql.table(table)} where ${sql.ref(periodColumn)} = ${period}
    group by vcenter
  `.execute(trx);
}

export type RetentionGranularity = "day" | "week" | "month" | "quarter";

export interface RetentionTier {
  /** `null`: no upper bound. */
  max_age_days: number | null;
  keep: "all" | RetentionGranularity;
}

export const DEFAULT_RETENTION_TIERS: RetentionTier[] = [
  { max_age_days: 7, keep: "all" },
  { max_age_days: 30, keep: "day" },
  { max_age_days: 90, keep: "week" },
  { max_age_days: 365, keep: "month" },
  { max_age_days: null, keep: "quarter" },
];

export interface RetentionRecord {
  id: number;
  received_at: string;
}

export interface RetentionPlan {
  keep: number[];
  delete: number[];
}

const DAY_MS = 86_400_000;

function isoDate(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** UTC bucket label; weeks are ISO weeks, labelled by their Monday. */
function bucketOf(time: number, granularity: RetentionGranularity): string {
  const date = new Date(time);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  switch (granularity) {
    case "day":
      return isoDate(time);
    case "week": {
      const daysSinceMonday = (date.getUTCDay() + 6) % 7;
      return isoDate(Date.UTC(year, month, date.getUTCDate() - daysSinceMonday));
    }
    case "month":
      return `${year}-${month + 1}`;
    case "quarter":
      return `${year}-Q${Math.floor(month / 3) + 1}`;
  }
}

function receivedTime(record: RetentionRecord): number {
  const time = Date.parse(record.received_at);
  if (Number.isNaN(time)) throw new RangeError(`record ${record.id}: invalid received_at "${record.received_at}"`);
  return time;
}

/**
 * Which full records of ONE system to keep. A record belongs to the first tier whose
 * `max_age_days` covers its age; records older than every tier are deleted. Buckets
 * are keyed per tier so a day bucket never merges with a week bucket. The earliest
 * record (the baseline diffs start from) and the latest (the current state) are
 * always kept, as are records dated in the future.
 */
export function planRetention(
  records: readonly RetentionRecord[],
  now: Date,
  tiers: readonly RetentionTier[] = DEFAULT_RETENTION_TIERS,
): RetentionPlan {
  const chronological = records
    .map((record) => ({ id: record.id, time: receivedTime(record) }))
    .sort((a, b) => a.time - b.time || a.id - b.id);
  const keep = new Set<number>();
  const first = chronological.at(0);
  const latest = chronological.at(-1);
  if (first) keep.add(first.id);
  if (latest) keep.add(latest.id);

  const lastOfBucket = new Map<string, number>();
  for (const { id, time } of chronological) {
    const ageDays = (now.getTime() - time) / DAY_MS;
    if (ageDays < 0) {
      keep.add(id);
      continue;
    }
    const tierIndex = tiers.findIndex((tier) => tier.max_age_days === null || tier.max_age_days >= ageDays);
    const tier = tiers[tierIndex];
    if (tier === undefined) continue;
    if (tier.keep === "all") keep.add(id);
    // Chronological order (ties by id) means the last write per bucket is the one to keep.
    else lastOfBucket.set(`${tierIndex}:${bucketOf(time, tier.keep)}`, id);
  }
  for (const id of lastOfBucket.values()) keep.add(id);

  const ids = records.map((record) => record.id).sort((a, b) => a - b);
  return { keep: ids.filter((id) => keep.has(id)), delete: ids.filter((id) => !keep.has(id)) };
}

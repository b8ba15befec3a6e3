import type { Kysely, Transaction } from "kysely";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";

export interface Alert {
  id: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: string;
  ends_at: string;
  status: "firing" | "resolved";
}

export interface AlertInput {
  /** Stable identity of the alert: the same fingerprint updates the same alert. */
  fingerprint: string;
  system_id: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: string;
  ends_at: string;
}

type Db = Kysely<DB> | Transaction<DB>;

// As in Alertmanager, an alert fires until its endsAt passes; resolving it means moving endsAt to now.

export async function upsertAlert(db: Db, input: AlertInput, now: Date): Promise<void> {
  const values = {
    fingerprint: input.fingerprint,
    system_id: input.system_id,
    labels: JSON.stringify(input.labels),
    annotations: JSON.stringify(input.annotations),
    starts_at: input.starts_at,
    ends_at: input.ends_at,
    updated_at: iso(now),
  };
  await db
    .insertInto("alerts")
    .values(values)
    .onConflict((oc) =>
      oc.column("fingerprint").doUpdateSet({
        labels: values.labels,
        annotations: values.annotations,
        starts_at: values.starts_at,
        ends_at: values.ends_at,
        updated_at: values.updated_at,
        system_id: values.system_id,
      }),
    )
    .execute();
}

/** The alert with this fingerprint if it is firing at `now`. */
export async function firingAlert(db: Db, fingerprint: string, now: Date) {
  return db
    .selectFrom("alerts")
    .select(["id", "starts_at", "ends_at"])
    .where("fingerprint", "=", fingerprint)
    .where("ends_at", ">", iso(now))
    .executeTakeFirst();
}

export async function resolveAlert(db: Db, fingerprint: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable("alerts")
    .set({ ends_at: iso(now), updated_at: iso(now) })
    .where("fingerprint", "=", fingerprint)
    .where("ends_at", ">", iso(now))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface AlertFilter {
  status?: "firing" | "resolved" | undefined;
  system_id?: string | undefined;
  limit: number;
  offset: number;
}

export async function listAlerts(db: Db, filter: AlertFilter, now: Date): Promise<Alert[]> {
  const at = iso(now);
  let query = db
    .selectFrom("alerts")
    .select(["id", "labels", "annotations", "starts_at", "ends_at"])
    .orderBy("starts_at", "desc")
    .orderBy("id", "desc")
    .limit(filter.limit)
    .offset(filter.offset);
  if (filter.status === "firing") query = query.where("ends_at", ">", at);
  if (filter.status === "resolved") query = query.where("ends_at", "<=", at);
  if (filter.system_id) query = query.where("system_id", "=", filter.system_id);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    labels: JSON.parse(r.labels),
    annotations: JSON.parse(r.annotations),
    starts_at: r.starts_at,
    ends_at: r.ends_at,
    status: r.ends_at > at ? "firing" : "resolved",
  }));
}

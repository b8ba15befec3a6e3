import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { firingAlert, resolveAlert, upsertAlert } from "../alerts/store.js";
import { addMinutes, iso } from "../lib/time.js";
import { systemLabels } from "./registry.js";

export interface HeartbeatSettings {
  timeoutMinutes: number;
  linkFailedTtlMinutes: number;
}

const linkFailedFingerprint = (systemId: string) => `linkfailed:${systemId}`;

/** A heartbeat makes the system active at once and resolves its LinkFailed alert (collect waits for a TTL). */
export async function recordHeartbeat(db: Kysely<DB>, systemId: string, now: Date): Promise<void> {
  const at = iso(now);
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable("systems")
      .set({ last_heartbeat_at: at })
      .where("id", "=", systemId)
      .where((eb) => eb.or([eb("last_heartbeat_at", "is", null), eb("last_heartbeat_at", "<", at)]))
      .execute();
    await trx
      .updateTable("systems")
      .set({ status: "active", status_changed_at: at })
      .where("id", "=", systemId)
      .where("status", "!=", "active")
      .execute();
    await resolveAlert(trx, linkFailedFingerprint(systemId), now);
  });
}

/**
 * The status machine, as set-based updates: active → inactive once the last heartbeat is older than the timeout;
 * unknown → inactive once the system has been registered longer than the timeout without any heartbeat.
 */
export async function updateStatuses(db: Kysely<DB>, settings: HeartbeatSettings, now: Date): Promise<number> {
  const cutoff = addMinutes(now, -settings.timeoutMinutes);
  const at = iso(now);
  const stale = await db
    .updateTable("systems")
    .set({ status: "inactive", status_changed_at: at })
    .where("status", "=", "active")
    .where("last_heartbeat_at", "<", cutoff)
    .executeTakeFirst();
  const silent = await db
    .updateTable("systems")
    .set({ status: "inactive", status_changed_at: at })
    .where("status", "=", "unknown")
    .where("last_heartbeat_at", "is", null)
    .where("created_at", "<", cutoff)
    .executeTakeFirst();
  return Number(stale.numUpdatedRows) + Number(silent.numUpdatedRows);
}

/**
 * Fires (or refreshes) LinkFailed for every inactive system. startsAt is when the heartbeat went missing
 * (last heartbeat, or registration, plus the timeout, never later than now) and stays put while the alert keeps
 * firing; endsAt moves to now + TTL on every refresh, so a stopped server lets the alert expire by itself.
 */
export async function syncLinkFailed(db: Kysely<DB>, settings: HeartbeatSettings, now: Date): Promise<number> {
  const inactive = await db
    .selectFrom("systems")
    .select(["id", "name", "last_heartbeat_at", "created_at"])
    .where("status", "=", "inactive")
    .execute();
  for (const system of inactive) {
    const fingerprint = linkFailedFingerprint(system.id);
    await db.transaction().execute(async (trx) => {
      const current = await firingAlert(trx, fingerprint, now);
      const missingSince = addMinutes(system.last_heartbeat_at ?? system.created_at, settings.timeoutMinutes);
      const labels = await systemLabels(trx, system.id);
      await upsertAlert(
        trx,
        {
          fingerprint,
          system_id: system.id,
          labels: { alertname: "LinkFailed", severity: "critical", ...labels },
          annotations: {
            summary: `No heartbeat from ${system.name} for more than ${settings.timeoutMinutes} minutes`,
            description: system.last_heartbeat_at
              ? `Last heartbeat at ${system.last_heartbeat_at}`
              : `No heartbeat since registration at ${system.created_at}`,
          },
          starts_at: current?.starts_at ?? iso(Math.min(new Date(missingSince).getTime(), now.getTime())),
          ends_at: addMinutes(now, settings.linkFailedTtlMinutes),
        },
        now,
      );
    });
  }
  return inactive.length;
}

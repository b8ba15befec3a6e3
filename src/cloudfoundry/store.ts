import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";
import type { IndexedEvent } from "./billing.js";

export type EventKind = "app" | "service";

export interface CollectedEvent {
  guid: string;
  created_at: string;
  entity: unknown;
}

export interface Marker {
  guid: string;
  created_at: string;
}

/** The organization and resource an event belongs to and the columns billing reads, from its entity (v2 or v3 shape). */
export type EventIndexer = (kind: EventKind, entity: unknown) => IndexedEvent;

// SQLite binds at most 32766 parameters per statement; 18 columns × 500 rows stays below it.
const INSERT_CHUNK = 500;

/**
 * The collector's storage port over the application database: events are inserted once per (source, kind, guid) —
 * re-delivery is ignored — and the resume marker moves in the same transaction, so a crash can never leave the
 * marker ahead of the stored events.
 */
export function cfEventStore(db: Kysely<DB>, index: EventIndexer) {
  return {
    async store(source: string, kind: EventKind, events: CollectedEvent[], marker: Marker | null): Promise<number> {
      const now = iso(Date.now());
      return db.transaction().execute(async (trx) => {
        let inserted = 0;
        for (let i = 0; i < events.length; i += INSERT_CHUNK) {
          const rows = events.slice(i, i + INSERT_CHUNK).map((e) => ({
            source,
            kind,
            guid: e.guid,
            created_at: e.created_at,
            received_at: now,
            ...index(kind, e.entity),
            entity: JSON.stringify(e.entity),
          }));
          const result = await trx
            .insertInto("cf_usage_events")
            .values(rows)
            .onConflict((oc) => oc.columns(["source", "kind", "guid"]).doNothing())
            .executeTakeFirst();
          inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
        }
        if (marker) {
          await trx
            .insertInto("cf_markers")
            .values({ source, kind, guid: marker.guid, created_at: marker.created_at, updated_at: now })
            .onConflict((oc) =>
              oc
                .columns(["source", "kind"])
                .doUpdateSet({ guid: marker.guid, created_at: marker.created_at, updated_at: now }),
            )
            .execute();
        }
        return inserted;
      });
    },

    async marker(source: string, kind: EventKind): Promise<Marker | null> {
      const row = await db
        .selectFrom("cf_markers")
        .select(["guid", "created_at"])
        .where("source", "=", source)
        .where("kind", "=", kind)
        .executeTakeFirst();
      return row ?? null;
    },

    async warn(source: string, kind: string, message: string): Promise<void> {
      await db
        .insertInto("cf_warnings")
        .values({ source, kind, message, created_at: iso(Date.now()) })
        .execute();
    },
  };
}

import type { Database as SqliteHandle, Statement } from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/**
 * Kysely's SQLite driver prepares every statement anew; on the ingest path that cost more CPU than running the
 * statements. Keeps the most recently used prepared statements by SQL text. A statement still being iterated is
 * busy and cannot be re-run, so a second user of the same SQL at that moment gets a fresh one.
 */
export function cachingSqlite(handle: SqliteHandle, capacity = 256): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      cache.clear();
      handle.close();
    },
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        // Re-inserting moves the entry to the end, so eviction below drops the least recently used one.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit as unknown as SqliteStatement;
      }
      const statement = handle.prepare(sql);
      if (!hit) {
        cache.set(sql, statement);
        if (cache.size > capacity) cache.delete(cache.keys().next().value as string);
      }
      return statement as unknown as SqliteStatement;
    },
  };
}

import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./state-files.js";
import type { LogRow, MetricRow } from "./types.js";

/** What `POST /api/metrics` receives. */
export interface BatchPayload {
  metrics: MetricRow[];
  logs: LogRow[];
  hw_hash: string | null;
}

/** A batch with the log cursors to commit once the server has acknowledged it (every source, as of its creation). */
export interface Batch {
  payload: BatchPayload;
  cursors: Record<string, string>;
  created_at: number;
}

interface Entry {
  file: string;
  bytes: number;
}

const NAME = /^(\d{16})\.json$/;

/**
 * Batches the server has not acknowledged, one file per batch named by a growing sequence number, so the directory
 * listing is the sending order and the spool survives restarts. Bounded by `maxBytes`: beyond it the oldest batches
 * are deleted and counted, never the one just added unless it alone is too large.
 */
export class Spool {
  private readonly entries: Entry[] = [];
  private bytes = 0;
  private sequence = 0;
  private readonly dir: string;
  private readonly maxBytes: number;

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const file of readdirSync(dir).sort()) {
      const m = NAME.exec(file);
      if (!m) continue;
      const bytes = statSync(join(dir, file)).size;
      this.entries.push({ file, bytes });
      this.bytes += bytes;
      this.sequence = Math.max(this.sequence, Number(m[1]));
    }
  }

  get count(): number {
    return this.entries.length;
  }

  get size(): number {
    return this.bytes;
  }

  /** Stores a batch; returns how many batches (old ones, or this one if it alone exceeds the bound) were dropped. */
  add(batch: Batch): number {
    this.sequence += 1;
    const file = `${String(this.sequence).padStart(16, "0")}.json`;
    const data = JSON.stringify(batch);
    writeFileAtomic(join(this.dir, file), data);
    const bytes = Buffer.byteLength(data);
    this.entries.push({ file, bytes });
    this.bytes += bytes;
    let dropped = 0;
    while (this.bytes > this.maxBytes && this.entries.length > 0) {
      this.removeEntry(0);
      dropped++;
    }
    return dropped;
  }

  /** The oldest batch, or undefined when empty. A file that no longer parses is dropped and reported. */
  oldest(): { id: string; batch: Batch } | { id: string; corrupt: string } | undefined {
    const entry = this.entries[0];
    if (!entry) return undefined;
    try {
      return { id: entry.file, batch: JSON.parse(readFileSync(join(this.dir, entry.file), "utf8")) as Batch };
    } catch (err) {
      return { id: entry.file, corrupt: (err as Error).message };
    }
  }

  /** Log positions of the newest spooled batch: reading resumes there after a restart, so nothing is read twice. */
  newestCursors(): Record<string, string> | undefined {
    const entry = this.entries[this.entries.length - 1];
    if (!entry) return undefined;
    try {
      return (JSON.parse(readFileSync(join(this.dir, entry.file), "utf8")) as Batch).cursors;
    } catch {
      return undefined;
    }
  }

  remove(id: string): void {
    const index = this.entries.findIndex((e) => e.file === id);
    if (index >= 0) this.removeEntry(index);
  }

  private removeEntry(index: number): void {
    const [entry] = this.entries.splice(index, 1);
    if (!entry) return;
    this.bytes -= entry.bytes;
    try {
      unlinkSync(join(this.dir, entry.file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}

interface Entry {
  data: unknown;
  size: number;
}

/**
 * Parsed documents of recently stored records, by record id, so the diff of a record that was just ingested in this
 * process neither reads the two ~10 KB documents back nor parses them again. The database stays the only source of
 * truth: an entry is added only after its record committed, records are never rewritten, and any miss (a restart,
 * another process, eviction) reads the document from the database.
 *
 * Bounded by the documents' canonical JSON size, least recently used out first (a parsed inventory document takes
 * about 1.3 times its JSON size on the heap).
 */
export class DocumentCache {
  private readonly entries = new Map<number, Entry>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Keeps a stored record's parsed document. The caller must not change `data` afterwards. */
  put(recordId: number, data: unknown, size: number): void {
    if (size > this.maxBytes) return;
    this.delete(recordId);
    this.entries.set(recordId, { data, size });
    this.bytes += size;
    for (const [id, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= entry.size;
    }
  }

  get(recordId: number): unknown {
    const entry = this.entries.get(recordId);
    if (!entry) return undefined;
    this.entries.delete(recordId);
    this.entries.set(recordId, entry);
    return entry.data;
  }

  delete(recordId: number): void {
    const entry = this.entries.get(recordId);
    if (!entry) return;
    this.entries.delete(recordId);
    this.bytes -= entry.size;
  }

  get size(): number {
    return this.entries.size;
  }
}

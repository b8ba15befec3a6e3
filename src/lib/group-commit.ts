interface Waiting<I, R> {
  item: I;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/**
 * Group commit: items that arrive while a transaction is being written wait for the next one, so under load one
 * commit acknowledges many items and a lone item is written at once. Each caller gets its answer only after the
 * transaction holding its item committed. When a group fails, its items are retried one by one, so one bad item
 * (its system deleted meanwhile, say) fails alone.
 */
export class GroupCommit<I, R> {
  private waiting: Waiting<I, R>[] = [];
  private flushing = false;

  /**
   * @param commit writes the items in one transaction and answers one result per item, in order
   * @param groupSize how many of the waiting items (oldest first, at least one) the next transaction takes
   */
  constructor(
    private readonly commit: (items: I[]) => Promise<R[]>,
    private readonly groupSize: (waiting: readonly I[]) => number,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        // better-sqlite3 answers synchronously, so without yielding to the event loop here no other request could
        // ever join the group; one turn lets every request already on the sockets submit first.
        await new Promise((resolve) => setImmediate(resolve));
        const size = Math.max(1, this.groupSize(this.waiting.map((w) => w.item)));
        const group = this.waiting.splice(0, size);
        try {
          const results = await this.commit(group.map((w) => w.item));
          for (const [i, w] of group.entries()) w.resolve(results[i] as R);
        } catch (err) {
          if (group.length === 1) {
            (group[0] as Waiting<I, R>).reject(err);
            continue;
          }
          for (const w of group) {
            try {
              const [result] = await this.commit([w.item]);
              w.resolve(result as R);
            } catch (single) {
              w.reject(single);
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

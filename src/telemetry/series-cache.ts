/**
 * Series ids by system, metric name and canonical labels, so a steady agent resolves its series without a query.
 * Nested maps instead of one joined key: a lookup hashes strings the batch already holds and builds none. Bounded:
 * once full, the series of the system cached earliest are dropped. Ids never change for a key, so an entry can only
 * go stale when series rows are deleted, which `forgetSystem` covers.
 */
export class SeriesCache {
  private readonly systems = new Map<string, Map<string, Map<string, number>>>();
  private entries = 0;

  constructor(private readonly capacity = 262_144) {}

  get(systemId: string, metricName: string, labels: string): number | undefined {
    return this.systems.get(systemId)?.get(metricName)?.get(labels);
  }

  set(systemId: string, metricName: string, labels: string, id: number): void {
    let names = this.systems.get(systemId);
    if (!names) {
      while (this.entries >= this.capacity && this.systems.size > 0) {
        this.forgetSystem(this.systems.keys().next().value as string);
      }
      names = new Map();
      this.systems.set(systemId, names);
    }
    let byLabels = names.get(metricName);
    if (!byLabels) {
      byLabels = new Map();
      names.set(metricName, byLabels);
    }
    if (!byLabels.has(labels)) this.entries++;
    byLabels.set(labels, id);
  }

  forgetSystem(systemId: string): void {
    const names = this.systems.get(systemId);
    if (!names) return;
    for (const byLabels of names.values()) this.entries -= byLabels.size;
    this.systems.delete(systemId);
  }

  get size(): number {
    return this.entries;
  }
}

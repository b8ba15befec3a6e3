/**
 * mulberry32: a 32-bit state is plenty to make documents vary reproducibly from a seed, and it costs a handful of
 * integer operations per draw, so the generator stays cheap next to the server it shares the CPU with.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError("pick from an empty list");
    return item;
  }

  hex(length: number): string {
    let out = "";
    while (out.length < length) out += this.int(0, 0xffff).toString(16).padStart(4, "0");
    return out.slice(0, length);
  }

  /** `count` different integers in [0, n), in draw order. */
  distinct(count: number, n: number): number[] {
    const chosen: number[] = [];
    while (chosen.length < Math.min(count, n)) {
      const candidate = this.int(0, n - 1);
      if (!chosen.includes(candidate)) chosen.push(candidate);
    }
    return chosen;
  }
}

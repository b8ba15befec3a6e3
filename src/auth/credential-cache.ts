import { sha256Hex } from "./secrets.js";

/**
 * Remembers credentials that passed scrypt verification for a while, keyed by identifier and a digest of the
 * secret, so steady traffic from a system costs one hash lookup instead of one scrypt run per request.
 * Bounded: the oldest entries are dropped first once `maxEntries` is reached.
 */
export class CredentialCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  private key(id: string, secret: string): string {
    return `${id}\u0000${sha256Hex(secret)}`;
  }

  get(id: string, secret: string, now = Date.now()): T | undefined {
    if (this.ttlMs <= 0) return undefined;
    const key = this.key(id, secret);
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(id: string, secret: string, value: T, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(this.key(id, secret), { value, expires: now + this.ttlMs });
  }

  /** Forgets every cached secret of one identifier (secret rotated or credential revoked). */
  forget(id: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${id}\u0000`)) this.entries.delete(key);
  }
}

import type { Kysely } from "kysely";
import type { DB } from "../db/types.js";
import { CredentialCache } from "./credential-cache.js";
import { verifySecret } from "./secrets.js";

export interface SystemIdentity {
  id: string;
  org_id: string;
  system_key: string;
}

/** Parses an HTTP Basic Authorization header; undefined for anything else. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class SystemVerifier {
  private readonly cache: CredentialCache<SystemIdentity>;

  constructor(
    private readonly db: Kysely<DB>,
    cacheSeconds: number,
  ) {
    this.cache = new CredentialCache(cacheSeconds * 1000);
  }

  /** Drops a system's remembered credentials at once, e.g. after its secret was rotated. */
  forget(systemKey: string): void {
    this.cache.forget(systemKey);
  }

  async verify(systemKey: string, secret: string): Promise<SystemIdentity | undefined> {
    const cached = this.cache.get(systemKey, secret);
    if (cached) return cached;
    const row = await this.db
      .selectFrom("systems")
      .select(["id", "org_id", "system_key", "secret_hash"])
      .where("system_key", "=", systemKey)
      .executeTakeFirst();
    if (!row || !(await verifySecret(secret, row.secret_hash))) return undefined;
    const identity = { id: row.id, org_id: row.org_id, system_key: row.system_key };
    this.cache.set(systemKey, secret, identity);
    return identity;
  }
}

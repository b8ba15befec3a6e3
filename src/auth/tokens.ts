import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { DB, Role } from "../db/types.js";
import { iso } from "../lib/time.js";
import { CredentialCache } from "./credential-cache.js";
import { hashSecret, randomSecret, verifySecret } from "./secrets.js";

// A token is `flt_<id>_<secret>`: the id finds the row, the secret is checked against its scrypt hash.
const TOKEN_PATTERN = /^flt_([0-9a-f]{16})_([A-Za-z0-9_-]{20,})$/;

export interface TokenIdentity {
  id: string;
  name: string;
  role: Role;
  /** Cloud Foundry organizations the token may see; undefined when it is not limited to any. */
  orgs?: string[];
}

export async function createToken(
  db: Kysely<DB>,
  name: string,
  role: Role,
  now = new Date(),
  orgs?: string[],
): Promise<string> {
  const id = randomBytes(8).toString("hex");
  const secret = randomSecret();
  await db
    .insertInto("api_tokens")
    .values({
      id,
      name,
      role,
      secret_hash: await hashSecret(secret),
      created_at: iso(now),
      org_scope: orgs && orgs.length > 0 ? JSON.stringify(orgs) : null,
    })
    .execute();
  return `flt_${id}_${secret}`;
}

export class TokenVerifier {
  private readonly cache: CredentialCache<TokenIdentity>;

  constructor(
    private readonly db: Kysely<DB>,
    cacheSeconds: number,
  ) {
    this.cache = new CredentialCache(cacheSeconds * 1000);
  }

  async verify(token: string): Promise<TokenIdentity | undefined> {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const cached = this.cache.get(id, secret);
    if (cached) return cached;
    const row = await this.db
      .selectFrom("api_tokens")
      .select(["id", "name", "role", "secret_hash", "org_scope"])
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row || !(await verifySecret(secret, row.secret_hash))) return undefined;
    const identity: TokenIdentity = {
      id: row.id,
      name: row.name,
      role: row.role,
      ...(row.org_scope ? { orgs: JSON.parse(row.org_scope) as string[] } : {}),
    };
    this.cache.set(id, secret, identity);
    return identity;
  }
}

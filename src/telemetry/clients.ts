import { constants, createPublicKey, verify } from "node:crypto";
import type { Kysely } from "kysely";
import { clientToken } from "../auth/client-token.js";
import { hashSecret, randomSecret } from "../auth/secrets.js";
import type { DB } from "../db/types.js";
import { iso } from "../lib/time.js";
import {
  ConflictError,
  createOrganization,
  createSystem,
  findOrganization,
  NotFoundError,
} from "../systems/registry.js";

export interface Registration {
  hostname: string;
  org?: string | undefined;
  machine_id?: string | undefined;
  hw_hash?: string | undefined;
  agent_version?: string | undefined;
}

export interface RegisteredClient {
  client_id: string;
  client_token: string;
  system_key: string;
  system_secret: string;
  /** True when a known machine registered again: same system, new secret. */
  reused: boolean;
}

/** The proof a dcmon client adds to its registration: an RSA-PSS/SHA-256 signature made with its own key. */
export interface SignedChallenge {
  hostname: string;
  public_key: string;
  timestamp: number;
  signature: string;
  challenge?: string | undefined;
}

export const SIGNATURE_SKEW_SECONDS = 300;

/**
 * Why a dcmon-style signed registration is refused, or undefined when it verifies. The signed message is the
 * `challenge` when the client sends one (dcmon's newer clients; it must end with ":<timestamp>"), otherwise
 * "<hostname>:<timestamp>". dcmon signs with the maximal PSS salt length, so the salt length is auto-detected.
 */
export function signatureProblem(signed: SignedChallenge, nowSeconds: number): string | undefined {
  if (!Number.isFinite(signed.timestamp) || Math.abs(nowSeconds - signed.timestamp) > SIGNATURE_SKEW_SECONDS) {
    return `timestamp must be within ${SIGNATURE_SKEW_SECONDS} s of the server's clock`;
  }
  const message = signed.challenge ?? `${signed.hostname}:${signed.timestamp}`;
  if (signed.challenge !== undefined && !signed.challenge.endsWith(`:${signed.timestamp}`)) {
    return "challenge must end with :<timestamp>";
  }
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(signed.public_key);
  } catch {
    return "public_key is not a PEM public key";
  }
  if (key.asymmetricKeyType !== "rsa") return "public_key must be an RSA key";
  const signature = Buffer.from(signed.signature, "base64");
  const valid = verify(
    "sha256",
    Buffer.from(message, "utf8"),
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
    signature,
  );
  return valid ? undefined : "signature does not verify against public_key";
}

export class UnknownOrganization extends Error {}

/**
 * Registers an agent as a system of its organization. A machine_id already registered in that organization gets
 * its existing system back with a new secret (the agent lost its state, or was reinstalled), so a host keeps its
 * history; the previous token stops working once credential caches expire.
 */
export async function registerClient(
  db: Kysely<DB>,
  request: Registration,
  defaultOrg: string,
  now = new Date(),
): Promise<RegisteredClient> {
  const orgId = await resolveOrganization(db, request.org, defaultOrg, now);
  return db.transaction().execute(async (trx) => {
    const existing =
      request.machine_id === undefined
        ? undefined
        : await trx
            .selectFrom("agent_clients")
            .innerJoin("systems", "systems.id", "agent_clients.system_id")
            .select(["systems.id as id", "systems.system_key as system_key"])
            .where("agent_clients.machine_id", "=", request.machine_id)
            .where("systems.org_id", "=", orgId)
            .orderBy("agent_clients.registered_at", "desc")
            .executeTakeFirst();
    const details = {
      hostname: request.hostname,
      hw_hash: request.hw_hash ?? null,
      machine_id: request.machine_id ?? null,
      agent_version: request.agent_version ?? null,
    };
    if (existing) {
      const secret = randomSecret();
      await trx
        .updateTable("systems")
        .set({ secret_hash: await hashSecret(secret) })
        .where("id", "=", existing.id)
        .execute();
      await trx.updateTable("agent_clients").set(details).where("system_id", "=", existing.id).execute();
      return answer(existing.id, existing.system_key, secret, true);
    }
    const created = await createSystem(trx, orgId, request.hostname, now);
    await trx
      .insertInto("agent_clients")
      .values({ system_id: created.id, ...details, registered_at: iso(now), last_seen_at: null })
      .execute();
    return answer(created.id, created.system_key, created.system_secret, false);
  });
}

function answer(id: string, systemKey: string, secret: string, reused: boolean): RegisteredClient {
  return {
    client_id: id,
    client_token: clientToken(systemKey, secret),
    system_key: systemKey,
    system_secret: secret,
    reused,
  };
}

/** An organization named in the request must exist; the configured default one is created on first use. */
async function resolveOrganization(db: Kysely<DB>, org: string | undefined, defaultOrg: string, now: Date) {
  try {
    return (await findOrganization(db, org ?? defaultOrg)).id;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    if (org !== undefined && org !== defaultOrg) throw new UnknownOrganization(`no organization "${org}"`);
  }
  try {
    return (await createOrganization(db, defaultOrg, now)).id;
  } catch (err) {
    // Another registration created it a moment ago.
    if (err instanceof ConflictError) return (await findOrganization(db, defaultOrg)).id;
    throw err;
  }
}

import { randomBytes, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { DB, SystemStatus } from "../db/types.js";
import { hashSecret, randomSecret } from "../auth/secrets.js";
import { iso } from "../lib/time.js";

export class NotFoundError extends Error {
  override name = "NotFoundError";
}
export class ConflictError extends Error {
  override name = "ConflictError";
}

export interface Organization {
  id: string;
  name: string;
}

export interface SystemSummary {
  id: string;
  name: string;
  org_id: string;
  system_key: string;
  status: SystemStatus;
  last_heartbeat_at: string | null;
  last_inventory_at: string | null;
}

export async function createOrganization(db: Kysely<DB>, name: string, now = new Date()): Promise<Organization> {
  const trimmed = name.trim();
  if (!trimmed) throw new ConflictError("organization name must not be empty");
  const existing = await db.selectFrom("organizations").select("id").where("name", "=", trimmed).executeTakeFirst();
  if (existing) throw new ConflictError(`organization "${trimmed}" already exists`);
  const org = { id: randomUUID(), name: trimmed };
  await db
    .insertInto("organizations")
    .values({ ...org, created_at: iso(now) })
    .execute();
  return org;
}

/** Accepts an organization id or name, as the CLI does. */
export async function findOrganization(db: Kysely<DB>, idOrName: string): Promise<Organization> {
  const org = await db
    .selectFrom("organizations")
    .select(["id", "name"])
    .where((eb) => eb.or([eb("id", "=", idOrName), eb("name", "=", idOrName)]))
    .executeTakeFirst();
  if (!org) throw new NotFoundError(`no organization with id or name "${idOrName}"`);
  return org;
}

export async function listOrganizations(db: Kysely<DB>): Promise<Organization[]> {
  return db.selectFrom("organizations").select(["id", "name"]).orderBy("name").execute();
}

function newSystemKey(): string {
  const hex = randomBytes(8).toString("hex").toUpperCase();
  return `FL-${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}`;
}

export async function createSystem(
  db: Kysely<DB>,
  org: string,
  name: string,
  now = new Date(),
): Promise<{ id: string; system_key: string; system_secret: string }> {
  const organization = await findOrganization(db, org);
  if (!name.trim()) throw new ConflictError("system name must not be empty");
  const secret = randomSecret();
  const row = {
    id: randomUUID(),
    org_id: organization.id,
    name: name.trim(),
    system_key: newSystemKey(),
    secret_hash: await hashSecret(secret),
    status: "unknown" as const,
    created_at: iso(now),
    status_changed_at: iso(now),
    last_heartbeat_at: null,
    last_inventory_at: null,
  };
  await db.insertInto("systems").values(row).execute();
  return { id: row.id, system_key: row.system_key, system_secret: secret };
}

export interface SystemFilter {
  org?: string | undefined;
  status?: SystemStatus | undefined;
  limit?: number;
  offset?: number;
}

export async function listSystems(db: Kysely<DB>, filter: SystemFilter = {}): Promise<SystemSummary[]> {
  let query = db
    .selectFrom("systems")
    .select(["id", "name", "org_id", "system_key", "status", "last_heartbeat_at", "last_inventory_at"])
    .orderBy("name")
    .orderBy("id");
  if (filter.org) query = query.where("org_id", "=", filter.org);
  if (filter.status) query = query.where("status", "=", filter.status);
  if (filter.limit !== undefined) query = query.limit(filter.limit).offset(filter.offset ?? 0);
  return query.execute();
}

export async function getSystem(db: Kysely<DB>, id: string): Promise<SystemSummary | undefined> {
  return db
    .selectFrom("systems")
    .select(["id", "name", "org_id", "system_key", "status", "last_heartbeat_at", "last_inventory_at"])
    .where("id", "=", id)
    .executeTakeFirst();
}

/** Identity labels every alert about a system carries; the server is their only source. */
export async function systemLabels(db: Kysely<DB>, systemId: string): Promise<Record<string, string>> {
  const row = await db
    .selectFrom("systems")
    .innerJoin("organizations", "organizations.id", "systems.org_id")
    .select([
      "systems.id as system_id",
      "systems.system_key as system_key",
      "systems.name as system_name",
      "organizations.id as organization_id",
      "organizations.name as organization_name",
    ])
    .where("systems.id", "=", systemId)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`no system ${systemId}`);
  return { ...row };
}

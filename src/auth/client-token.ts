import type { SystemIdentity, SystemVerifier } from "./system-credentials.js";

// An agent's bearer token carries its system's push credentials, `flc_<system_key>_<system_secret>`, so the agent
// holds one secret for both doors: Bearer for the dcmon-style metric and command APIs, HTTP Basic for the
// collect-style inventory and heartbeat pushes. System keys contain no underscore; the secret may.
const PREFIX = "flc_";

export function clientToken(systemKey: string, systemSecret: string): string {
  return `${PREFIX}${systemKey}_${systemSecret}`;
}

export function parseClientToken(token: string): { systemKey: string; systemSecret: string } | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const rest = token.slice(PREFIX.length);
  const split = rest.indexOf("_");
  if (split <= 0 || split === rest.length - 1) return undefined;
  return { systemKey: rest.slice(0, split), systemSecret: rest.slice(split + 1) };
}

export async function verifyClientToken(
  systems: SystemVerifier,
  token: string | undefined,
): Promise<SystemIdentity | undefined> {
  const parsed = token ? parseClientToken(token) : undefined;
  return parsed ? systems.verify(parsed.systemKey, parsed.systemSecret) : undefined;
}

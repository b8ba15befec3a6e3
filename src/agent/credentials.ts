import { join } from "node:path";
import { ensureStateDir, readJsonFile, writeFileAtomic } from "./state-files.js";

export interface Credentials {
  client_id: string;
  client_token: string;
  system_key: string;
  system_secret: string;
  server: string;
}

export class CredentialsError extends Error {
  override name = "CredentialsError";
}

export function credentialsPath(stateDir: string): string {
  return join(stateDir, "credentials.json");
}

export function saveCredentials(stateDir: string, credentials: Credentials): string {
  ensureStateDir(stateDir);
  const path = credentialsPath(stateDir);
  writeFileAtomic(path, `${JSON.stringify(credentials, null, 2)}\n`, 0o600);
  return path;
}

export function loadCredentials(stateDir: string): Credentials {
  const path = credentialsPath(stateDir);
  const stored = readJsonFile<Partial<Credentials>>(path);
  if (!stored) throw new CredentialsError(`${path} does not exist: run \`fleetledger agent enroll\` first`);
  for (const key of ["client_id", "client_token", "system_key", "system_secret", "server"] as const) {
    if (typeof stored[key] !== "string" || stored[key] === "") {
      throw new CredentialsError(`${path} has no ${key}: enrol the agent again`);
    }
  }
  return stored as Credentials;
}

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseClientToken } from "../auth/client-token.js";
import { type Credentials, saveCredentials } from "./credentials.js";
import { factsDocument, hardwareHash, readFactSources } from "./facts.js";
import { HttpClient } from "./http.js";
import { EnrolError, register } from "./server-api.js";
import { AGENT_VERSION } from "./version.js";

export interface EnrolOptions {
  server: string;
  token: string;
  stateDir: string;
  org?: string;
  skipVerify?: boolean;
  caFile?: string;
  /** Defaults to reading /etc/machine-id; tests pass their own. */
  machineId?: string | null;
  hwHash?: string | null;
}

function machineId(): string | null {
  try {
    return readFileSync("/etc/machine-id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

/** Registers this host with an enrolment token and stores the credentials (0600) in the state dir (0700). */
export async function enrol(options: EnrolOptions): Promise<{ credentials: Credentials; path: string }> {
  if (!/^https?:\/\/[^/]/.test(options.server)) throw new EnrolError(`--server must be an http:// or https:// URL`);
  const client = new HttpClient(options.server, {
    ...(options.skipVerify ? { skipVerify: true } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
  });
  const hw =
    options.hwHash !== undefined
      ? options.hwHash
      : hardwareHash(
          factsDocument(await readFactSources(), { agent_version: AGENT_VERSION, docker: false, exporters: [] }),
        );
  const id = options.machineId !== undefined ? options.machineId : machineId();
  try {
    const registration = await register(client, options.token, {
      hostname: hostname(),
      agent_version: AGENT_VERSION,
      ...(options.org ? { org: options.org } : {}),
      ...(id ? { machine_id: id } : {}),
      ...(hw ? { hw_hash: hw } : {}),
    });
    // The token carries the system's push credentials; a server that answers otherwise is not ours.
    const parsed = parseClientToken(registration.client_token);
    if (
      parsed &&
      (parsed.systemKey !== registration.system_key || parsed.systemSecret !== registration.system_secret)
    ) {
      throw new EnrolError("the server's client_token does not match the system credentials it returned");
    }
    const credentials: Credentials = { ...registration, server: options.server.replace(/\/+$/, "") };
    return { credentials, path: saveCredentials(options.stateDir, credentials) };
  } finally {
    client.close();
  }
}

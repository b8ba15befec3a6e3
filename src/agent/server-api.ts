import { basicAuth, errorText, type HttpClient, type HttpResponse, retryAfterMs } from "./http.js";
import type { BatchPayload } from "./spool.js";

export interface Rejection {
  index: number;
  reason: string;
}

export type PushOutcome =
  | { kind: "acknowledged"; inserted: number; logsInserted: number; rejected: Rejection[]; logsRejected: Rejection[] }
  /** Worth sending again later: the server is unreachable, overloaded or failing, or our credentials are refused. */
  | { kind: "retry"; reason: string; retryAfterMs?: number }
  /** The server refuses this batch as such (malformed, too large): sending it again would fail the same way. */
  | { kind: "refused"; reason: string };

export type PushFailure = Exclude<PushOutcome, { kind: "acknowledged" }>;

export class EnrolError extends Error {
  override name = "EnrolError";
}

/** 401/403 are retried: a revoked or rotated credential is fixed by an operator, and the batches stay spooled. */
function classify(response: HttpResponse, now: number): PushFailure | undefined {
  const status = response.status;
  if (status === 429 || status === 408 || status >= 500 || status === 401 || status === 403) {
    const wait = retryAfterMs(response.headers["retry-after"], now);
    return {
      kind: "retry",
      reason: `HTTP ${status}: ${errorText(response)}`,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    };
  }
  if (status >= 400) return { kind: "refused", reason: `HTTP ${status}: ${errorText(response)}` };
  return undefined;
}

export async function pushMetrics(client: HttpClient, token: string, payload: BatchPayload): Promise<PushOutcome> {
  let response: HttpResponse;
  try {
    response = await client.request("POST", "/api/metrics", payload, `Bearer ${token}`);
  } catch (err) {
    return { kind: "retry", reason: (err as Error).message };
  }
  const problem = classify(response, Date.now());
  if (problem) return problem;
  try {
    const body = JSON.parse(response.body) as {
      inserted?: number;
      logs_inserted?: number;
      rejected?: Rejection[];
      logs_rejected?: Rejection[];
    };
    return {
      kind: "acknowledged",
      inserted: body.inserted ?? 0,
      logsInserted: body.logs_inserted ?? 0,
      rejected: body.rejected ?? [],
      logsRejected: body.logs_rejected ?? [],
    };
  } catch {
    // A 2xx that is not our server's JSON (a proxy's page): the data may not be stored, so it is not an acknowledgement.
    return { kind: "retry", reason: `HTTP ${response.status} without a JSON answer` };
  }
}

export interface SystemAuth {
  system_key: string;
  system_secret: string;
}

/** Heartbeat and inventory use the collect-style doors with HTTP Basic system credentials. */
export async function sendHeartbeat(client: HttpClient, auth: SystemAuth): Promise<PushFailure | { kind: "ok" }> {
  try {
    const response = await client.request(
      "POST",
      "/api/systems/heartbeat",
      {},
      basicAuth(auth.system_key, auth.system_secret),
    );
    return classify(response, Date.now()) ?? { kind: "ok" };
  } catch (err) {
    return { kind: "retry", reason: (err as Error).message };
  }
}

export async function pushInventory(
  client: HttpClient,
  auth: SystemAuth,
  data: unknown,
): Promise<PushFailure | { kind: "ok"; duplicate: boolean }> {
  try {
    const response = await client.request(
      "POST",
      "/api/systems/inventory",
      { system_id: auth.system_key, timestamp: new Date().toISOString(), data },
      basicAuth(auth.system_key, auth.system_secret),
    );
    const problem = classify(response, Date.now());
    if (problem) return problem;
    const body = JSON.parse(response.body) as { duplicate?: boolean };
    return { kind: "ok", duplicate: body.duplicate === true };
  } catch (err) {
    return { kind: "retry", reason: (err as Error).message };
  }
}

export interface Registration {
  client_id: string;
  client_token: string;
  system_key: string;
  system_secret: string;
}

export async function register(
  client: HttpClient,
  enrolToken: string,
  body: { hostname: string; org?: string; machine_id?: string; hw_hash?: string; agent_version: string },
): Promise<Registration> {
  let response: HttpResponse;
  try {
    response = await client.request("POST", "/api/clients/register", body, `Bearer ${enrolToken}`);
  } catch (err) {
    throw new EnrolError(`cannot reach ${client.baseUrl}: ${(err as Error).message}`);
  }
  if (response.status !== 201 && response.status !== 200) {
    throw new EnrolError(`the server refused the registration (HTTP ${response.status}): ${errorText(response)}`);
  }
  const parsed = JSON.parse(response.body) as Partial<Registration>;
  for (const key of ["client_id", "client_token", "system_key", "system_secret"] as const) {
    if (typeof parsed[key] !== "string" && typeof parsed[key] !== "number") {
      throw new EnrolError(`the server's registration answer has no ${key}`);
    }
  }
  return {
    client_id: String(parsed.client_id),
    client_token: String(parsed.client_token),
    system_key: String(parsed.system_key),
    system_secret: String(parsed.system_secret),
  };
}

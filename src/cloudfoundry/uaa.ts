import { Agent, type Dispatcher, request } from "undici";

// The typed errors and the one JSON-over-HTTP exchange live in this file, below both the UAA token source and the
// usage-event client, so client.ts builds on it without an import cycle; client.ts re-exports the errors.

export type CfErrorKind = "transport" | "http" | "auth" | "protocol" | "unknown_after_guid";

/**
 * Every failure of a Cloud Foundry or UAA exchange surfaces as one of these, so the collector's backoff and the
 * error metric can tell an unreachable API from rejected credentials or purged events without parsing messages.
 */
export class CfError extends Error {
  constructor(
    readonly kind: CfErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** DNS failure, refused or reset connection, TLS failure, or no complete answer within the timeout. */
export class CfTransportError extends CfError {
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super("transport", message, options);
  }
}

/** What a CF (v2 or v3) or UAA error body says, in one shape. */
export interface CfErrorDetail {
  code?: number;
  title?: string;
  detail?: string;
}

/** An HTTP error status that is neither an authentication failure nor an unknown resume guid (5xx, a proxy's 404). */
export class CfHttpError extends CfError {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
    readonly error: CfErrorDetail | undefined,
  ) {
    super("http", message);
  }
}

/** UAA refused the credentials, or the API refused the token (401 after a fresh token, or 403). */
export class CfAuthError extends CfError {
  constructor(
    message: string,
    readonly status: number,
    readonly error: CfErrorDetail | undefined,
  ) {
    super("auth", message);
  }
}

/** The peer answered 2xx, but not with the JSON the API documents. */
export class CfProtocolError extends CfError {
  constructor(message: string, options?: ErrorOptions) {
    super("protocol", message, options);
  }
}

export interface JsonExchange {
  status: number;
  /** The parsed body; undefined when the body is empty or not JSON. */
  json: unknown;
  text: string;
}

export interface ExchangeRequest {
  method: "GET" | "POST";
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** One HTTP exchange; transport failures become CfTransportError, any status is returned for the caller to judge. */
export async function exchangeJson(dispatcher: Dispatcher, req: ExchangeRequest): Promise<JsonExchange> {
  const deadline = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([deadline, req.signal]) : deadline;
  try {
    const response = await request(req.url, {
      dispatcher,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: parseJson(text), text };
  } catch (err) {
    const host = new URL(req.url).host;
    if (req.signal?.aborted) throw req.signal.reason;
    if (deadline.aborted) {
      throw new CfTransportError(
        `${req.method} ${req.url}: no complete answer within ${req.timeoutMs} ms`,
        "ETIMEDOUT",
        {
          cause: err,
        },
      );
    }
    const code = errorCode(err);
    throw new CfTransportError(`cannot reach ${host}: ${innermostMessage(err)}${code ? ` (${code})` : ""}`, code, {
      cause: err,
    });
  }
}

/** Reads the error of a CF v3 (`errors[0]`), CF v2 (`error_code`) or UAA (`error`) body. */
export function errorDetail(json: unknown): CfErrorDetail | undefined {
  if (!isRecord(json)) return undefined;
  const first = Array.isArray(json.errors) ? json.errors[0] : undefined;
  if (isRecord(first)) {
    return { code: numberOr(first.code), title: stringOr(first.title), detail: stringOr(first.detail) };
  }
  if (typeof json.error_code === "string") {
    return { code: numberOr(json.code), title: json.error_code, detail: stringOr(json.description) };
  }
  if (typeof json.error === "string") return { title: json.error, detail: stringOr(json.error_description) };
  return undefined;
}

export function describeError(status: number, detail: CfErrorDetail | undefined, text: string): string {
  if (detail) return [detail.title, detail.detail].filter(Boolean).join(": ") || `HTTP ${status}`;
  const shown = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return shown === "" ? `HTTP ${status} with an empty body` : `HTTP ${status}: ${shown}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function createDispatcher(skipTlsVerification: boolean, timeoutMs: number): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { rejectUnauthorized: !skipTlsVerification, timeout: timeoutMs },
  });
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

export function checkHttpUrl(url: string, what: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new TypeError(`${what} must be an http(s) URL: ${url}`);
  }
  return trimSlash(url);
}

/** Client credentials of a UAA client, or a user's password (grant through the `cf` CLI client unless told). */
export type CfCredentials =
  | { client_id: string; client_secret: string }
  | { username: string; password: string; client_id?: string; client_secret?: string };

export interface UaaTokenSourceOptions {
  /** The Cloud Foundry API, asked for its UAA at `GET /` (v3 links) and then `GET /v2/info`. */
  api: string;
  auth: CfCredentials;
  /** The UAA base URL when known; skips discovery. */
  uaa?: string;
  skip_tls_verification?: boolean;
  user_agent?: string;
  timeout_ms?: number;
  /** Shared with the API client so both use one connection pool; the token source then does not close it. */
  dispatcher?: Dispatcher;
  now?: () => number;
}

interface CachedToken {
  value: string;
  refreshAt: number;
  expiresAt: number;
}

// A token is renewed this long before it expires (at most a fifth of its lifetime), so a request never leaves with a
// token that expires on the way and a brief UAA outage inside the window does not interrupt collection.
const REFRESH_MARGIN_MS = 60_000;

/** OAuth2 bearer tokens from the UAA of one CF API: discovered once, cached, renewed before expiry. */
export class UaaTokenSource {
  private readonly api: string;
  private readonly auth: CfCredentials;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly now: () => number;
  private uaa: string | undefined;
  private cached: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;
  private obtained = 0;

  constructor(options: UaaTokenSourceOptions) {
    this.api = checkHttpUrl(options.api, "the Cloud Foundry API");
    this.uaa = options.uaa === undefined ? undefined : checkHttpUrl(options.uaa, "the UAA");
    this.auth = options.auth;
    this.userAgent = options.user_agent ?? "fleetledger";
    this.timeoutMs = options.timeout_ms ?? DEFAULT_TIMEOUT_MS;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? createDispatcher(options.skip_tls_verification ?? false, this.timeoutMs);
    this.now = options.now ?? Date.now;
  }

  /** Tokens obtained from the UAA so far. */
  get tokensObtained(): number {
    return this.obtained;
  }

  /** The UAA base URL, once discovered. */
  get uaaUrl(): string | undefined {
    return this.uaa;
  }

  async token(signal?: AbortSignal): Promise<string> {
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAt) return cached.value;
    try {
      this.pending ??= this.fetchToken(signal).finally(() => {
        this.pending = undefined;
      });
      const fresh = await this.pending;
      this.cached = fresh;
      return fresh.value;
    } catch (err) {
      if (cached && this.now() < cached.expiresAt) return cached.value;
      throw err;
    }
  }

  /** Forgets `token` after the API refused it (revoked, or clocks apart), so the next call asks the UAA again. */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async fetchToken(signal: AbortSignal | undefined): Promise<CachedToken> {
    const uaa = await this.discover(signal);
    const url = `${uaa}/oauth/token`;
    const { clientId, clientSecret, form, who } = this.grant();
    const requestedAt = this.now();
    const res = await exchangeJson(this.dispatcher, {
      method: "POST",
      url,
      headers: {
        accept: "application/json",
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`,
        "user-agent": this.userAgent,
      },
      body: form.toString(),
      timeoutMs: this.timeoutMs,
      signal,
    });
    const detail = errorDetail(res.json);
    if (res.status === 401 || (res.status === 400 && REFUSED_GRANT.has(detail?.title ?? ""))) {
      throw new CfAuthError(
        `the UAA at ${uaa} refused ${who}: ${describeError(res.status, detail, res.text)}`,
        res.status,
        detail,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw new CfHttpError(
        `POST ${url} answered ${res.status}: ${describeError(res.status, detail, res.text)}`,
        res.status,
        url,
        detail,
      );
    }
    const body = res.json;
    if (
      !isRecord(body) ||
      typeof body.access_token !== "string" ||
      body.access_token === "" ||
      typeof body.token_type !== "string" ||
      body.token_type.toLowerCase() !== "bearer" ||
      typeof body.expires_in !== "number" ||
      !(body.expires_in > 0)
    ) {
      throw new CfProtocolError(`POST ${url} did not answer with a bearer token and its expires_in`);
    }
    this.obtained++;
    const lifetimeMs = body.expires_in * 1000;
    const expiresAt = requestedAt + lifetimeMs;
    return {
      value: body.access_token,
      expiresAt,
      refreshAt: expiresAt - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 5),
    };
  }

  private grant(): { clientId: string; clientSecret: string; form: URLSearchParams; who: string } {
    const auth = this.auth;
    if ("username" in auth) {
      const clientId = auth.client_id ?? "cf";
      return {
        clientId,
        clientSecret: auth.client_secret ?? "",
        form: new URLSearchParams({ grant_type: "password", username: auth.username, password: auth.password }),
        who: `the password of user "${auth.username}" (client "${clientId}")`,
      };
    }
    return {
      clientId: auth.client_id,
      clientSecret: auth.client_secret,
      form: new URLSearchParams({ grant_type: "client_credentials" }),
      who: `the client credentials of "${auth.client_id}"`,
    };
  }

  private async discover(signal: AbortSignal | undefined): Promise<string> {
    if (this.uaa !== undefined) return this.uaa;
    const attempts: string[] = [];
    let serverError: CfHttpError | undefined;
    for (const [path, pick] of DISCOVERY) {
      const url = `${this.api}${path}`;
      const res = await exchangeJson(this.dispatcher, {
        method: "GET",
        url,
        headers: { accept: "application/json", "user-agent": this.userAgent },
        timeoutMs: this.timeoutMs,
        signal,
      });
      const found = res.status >= 200 && res.status < 300 ? pick(res.json) : undefined;
      if (found !== undefined) {
        this.uaa = checkHttpUrl(found, `the UAA advertised at ${url}`);
        return this.uaa;
      }
      attempts.push(`GET ${path} answered ${res.status}${res.status < 300 ? " without a UAA link" : ""}`);
      if (res.status >= 500) {
        const detail = errorDetail(res.json);
        serverError = new CfHttpError(
          `GET ${url} answered ${res.status}: ${describeError(res.status, detail, res.text)}`,
          res.status,
          url,
          detail,
        );
      }
    }
    if (serverError) throw serverError;
    throw new CfProtocolError(`cannot find the UAA of ${this.api}: ${attempts.join("; ")}`);
  }
}

// UAA answers a wrong password or client secret with 401, but a grant the client may not use with 400.
const REFUSED_GRANT = new Set(["invalid_grant", "invalid_client", "unauthorized_client", "unauthorized"]);

// v3 root links first: current CF can switch the v2 API off, and `uaa` is where tokens are issued (`login` is the
// interactive front that answers the same token endpoint).
const DISCOVERY: [string, (json: unknown) => string | undefined][] = [
  ["/", (json) => linkHref(json, "uaa") ?? linkHref(json, "login")],
  ["/v2/info", (json) => (isRecord(json) ? stringOr(json.token_endpoint) : undefined)],
];

function linkHref(json: unknown, name: string): string | undefined {
  const link = isRecord(json) && isRecord(json.links) ? json.links[name] : undefined;
  return isRecord(link) ? stringOr(link.href) : undefined;
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringOr(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function numberOr(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

// undici puts the Node error code on the error or deeper in its cause chain; the innermost is the most specific.
function errorCode(err: unknown): string | undefined {
  let found: string | undefined;
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") found = code;
  }
  return found;
}

function innermostMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e = err; e instanceof Error; e = e.cause) if (e.message) message = e.message;
  return message.trim();
}

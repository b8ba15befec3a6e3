import type { Dispatcher } from "undici";
import {
  CfAuthError,
  type CfCredentials,
  CfError,
  type CfErrorDetail,
  CfHttpError,
  CfProtocolError,
  checkHttpUrl,
  createDispatcher,
  DEFAULT_TIMEOUT_MS,
  describeError,
  errorDetail,
  exchangeJson,
  isRecord,
  type JsonExchange,
  UaaTokenSource,
} from "./uaa.js";

export {
  CfAuthError,
  type CfCredentials,
  CfError,
  type CfErrorDetail,
  type CfErrorKind,
  CfHttpError,
  CfProtocolError,
  CfTransportError,
  UaaTokenSource,
} from "./uaa.js";

export type UsageEventKind = "app" | "service";

/** One usage event as CF lists it: the v3 resource without its links, or the v2 `entity`. */
export interface UsageEvent {
  guid: string;
  created_at: string;
  entity: unknown;
}

export interface UsageEventPage {
  events: UsageEvent[];
  /** CF announced a next page (`next.href` / `next_url`). */
  hasMore: boolean;
}

export interface FetchPageOptions {
  /** List the events after this one; CF refuses a guid it does not know (see UnknownAfterGuidError). */
  afterGuid?: string | undefined;
  limit: number;
  signal?: AbortSignal | undefined;
}

/** What the collector needs from a foundation; CloudFoundryClient is the real one. */
export interface UsageEventSource {
  fetchPage(kind: UsageEventKind, options: FetchPageOptions): Promise<UsageEventPage>;
}

/**
 * CF no longer knows the `after_guid` (its events were purged): v3 answers 422 CF-UnprocessableEntity (10008) "After
 * guid filter must be a valid … usage event guid", v2 answers 400 CF-BadQueryParameter (10005) naming the guid.
 */
export class UnknownAfterGuidError extends CfError {
  constructor(
    message: string,
    readonly afterGuid: string,
    readonly status: number,
    readonly error: CfErrorDetail | undefined,
  ) {
    super("unknown_after_guid", message);
  }
}

export interface CloudFoundryClientOptions {
  api: string;
  auth: CfCredentials;
  skip_tls_verification?: boolean;
  user_agent?: string;
  api_version?: "v3" | "v2";
  timeout_ms?: number;
  /** The UAA base URL when known; otherwise discovered from the API. */
  uaa?: string;
  now?: () => number;
}

const PATHS: Record<"v3" | "v2", Record<UsageEventKind, string>> = {
  v3: { app: "/v3/app_usage_events", service: "/v3/service_usage_events" },
  v2: { app: "/v2/app_usage_events", service: "/v2/service_usage_events" },
};

/** Lists app and service usage events of one foundation, one HTTP request per page, with a UAA bearer token. */
export class CloudFoundryClient implements UsageEventSource {
  readonly tokens: UaaTokenSource;
  readonly apiVersion: "v3" | "v2";
  private readonly api: string;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;

  constructor(options: CloudFoundryClientOptions) {
    this.api = checkHttpUrl(options.api, "the Cloud Foundry API");
    this.apiVersion = options.api_version ?? "v3";
    this.userAgent = options.user_agent ?? "fleetledger";
    this.timeoutMs = options.timeout_ms ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = createDispatcher(options.skip_tls_verification ?? false, this.timeoutMs);
    this.tokens = new UaaTokenSource({
      api: this.api,
      auth: options.auth,
      user_agent: this.userAgent,
      timeout_ms: this.timeoutMs,
      dispatcher: this.dispatcher,
      ...(options.uaa === undefined ? {} : { uaa: options.uaa }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }

  async fetchPage(kind: UsageEventKind, options: FetchPageOptions): Promise<UsageEventPage> {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new RangeError(`page limit must be a positive integer, got ${options.limit}`);
    }
    const path = PATHS[this.apiVersion][kind];
    const url = `${this.api}${path}?${this.query(options).toString()}`;
    let token = await this.tokens.token(options.signal);
    let res = await this.get(url, token, options.signal);
    if (res.status === 401) {
      // One retry with a new token: the cached one may have been revoked or judged expired by a clock ahead of ours.
      this.tokens.invalidate(token);
      token = await this.tokens.token(options.signal);
      res = await this.get(url, token, options.signal);
    }
    if (res.status >= 200 && res.status < 300) return this.parsePage(path, res.json);
    throw this.failure(url, path, res, options.afterGuid);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private query(options: FetchPageOptions): URLSearchParams {
    const query = new URLSearchParams();
    if (this.apiVersion === "v3") {
      query.set("per_page", String(options.limit));
      query.set("order_by", "created_at");
    } else {
      query.set("results-per-page", String(options.limit));
      query.set("order-direction", "asc");
    }
    if (options.afterGuid !== undefined) query.set("after_guid", options.afterGuid);
    return query;
  }

  private get(url: string, token: string, signal: AbortSignal | undefined): Promise<JsonExchange> {
    return exchangeJson(this.dispatcher, {
      method: "GET",
      url,
      headers: { accept: "application/json", authorization: `bearer ${token}`, "user-agent": this.userAgent },
      timeoutMs: this.timeoutMs,
      signal,
    });
  }

  private failure(url: string, path: string, res: JsonExchange, afterGuid: string | undefined): CfError {
    const detail = errorDetail(res.json);
    const reason = describeError(res.status, detail, res.text);
    if (res.status === 401 || res.status === 403) {
      return new CfAuthError(`GET ${path} refused the UAA token (${res.status}): ${reason}`, res.status, detail);
    }
    if (afterGuid !== undefined && isUnknownAfterGuid(res.status, detail, afterGuid)) {
      return new UnknownAfterGuidError(
        `GET ${path}: CF does not know after_guid ${afterGuid} (${res.status} ${reason})`,
        afterGuid,
        res.status,
        detail,
      );
    }
    return new CfHttpError(`GET ${url} answered ${res.status}: ${reason}`, res.status, url, detail);
  }

  private parsePage(path: string, body: unknown): UsageEventPage {
    if (!isRecord(body) || !Array.isArray(body.resources)) {
      throw new CfProtocolError(`GET ${path} did not answer with a list of resources`);
    }
    if (this.apiVersion === "v3") {
      const pagination = isRecord(body.pagination) ? body.pagination : undefined;
      if (!pagination) throw new CfProtocolError(`GET ${path} answered without pagination`);
      const next = pagination.next;
      return {
        events: body.resources.map((resource, i) => v3Event(path, resource, i)),
        hasMore: isRecord(next) && typeof next.href === "string",
      };
    }
    return {
      events: body.resources.map((resource, i) => v2Event(path, resource, i)),
      hasMore: typeof body.next_url === "string",
    };
  }
}

// Both versions name the rejected guid or the after_guid filter in the message; matching on it keeps a 400 for a
// different parameter (results-per-page too large) from passing as purged events.
function isUnknownAfterGuid(status: number, detail: CfErrorDetail | undefined, afterGuid: string): boolean {
  if (status !== 400 && status !== 404 && status !== 422) return false;
  const text = detail?.detail ?? "";
  return text.includes(afterGuid) || /after[ _]guid/i.test(text);
}

function v3Event(path: string, resource: unknown, index: number): UsageEvent {
  if (!isRecord(resource) || typeof resource.guid !== "string" || resource.guid === "") {
    throw new CfProtocolError(`GET ${path}: resource ${index} has no guid`);
  }
  const { links: _links, ...entity } = resource;
  return { guid: resource.guid, created_at: String(resource.created_at ?? ""), entity };
}

function v2Event(path: string, resource: unknown, index: number): UsageEvent {
  const metadata = isRecord(resource) ? resource.metadata : undefined;
  if (!isRecord(resource) || !isRecord(metadata) || typeof metadata.guid !== "string" || metadata.guid === "") {
    throw new CfProtocolError(`GET ${path}: resource ${index} has no metadata.guid`);
  }
  return { guid: metadata.guid, created_at: String(metadata.created_at ?? ""), entity: resource.entity };
}

import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";

/*
 * A Cloud Foundry test peer: the Cloud Controller's usage-event endpoints (v2 and v3) and a UAA token endpoint, on two
 * real HTTP servers, answering the way CAPI does — including its errors:
 *
 * - unknown after_guid: v3 422 CF-UnprocessableEntity (10008) "After guid filter must be a valid app usage event
 *   guid." (CAPI's AppUsageEventListFetcher / ServiceUsageEventListFetcher); v2 400 CF-BadQueryParameter (10005)
 *   "The query parameter is invalid: <guid>" (the v2 AppUsageEventsController).
 * - page size: v2 `results-per-page` above 100 (CAPI's default max_results_per_page) is 400 CF-BadQueryParameter
 *   "results_per_page must be <= 100"; v3 `per_page` outside 1..5000 is 400 CF-BadQueryParameter.
 * - no token: 401 CF-NotAuthenticated (10002); unknown or expired token: 401 CF-InvalidAuthToken (1000).
 * - UAA: wrong client secret or password 401 {"error":"unauthorized","error_description":"Bad credentials"}.
 *
 * Purges drop every stored event, so their guids become unknown, and reseed like CAPI: one STARTED event per process
 * whose last event left it started, one CREATED event per service instance not deleted, all created now with fresh
 * guids. Running tasks are not reseeded.
 */

export type SimEventKind = "app" | "service";

export type AppEventState =
  | "STARTED"
  | "STOPPED"
  | "TASK_STARTED"
  | "TASK_STOPPED"
  | "STAGING_STARTED"
  | "STAGING_STOPPED"
  | "BUILDPACK_SET";

export type ServiceEventState = "CREATED" | "UPDATED" | "DELETED";

/** An app usage event with the field names of the v2 entity; the v3 resource is rendered from the same fields. */
export interface SimAppEvent {
  guid: string;
  created_at: string;
  state: AppEventState;
  previous_state: AppEventState | null;
  /** The process (v2 calls it the app). */
  app_guid: string;
  app_name: string;
  /** The v3 app the process belongs to. */
  parent_app_guid: string;
  parent_app_name: string;
  space_guid: string;
  space_name: string;
  org_guid: string;
  instance_count: number;
  previous_instance_count: number | null;
  memory_in_mb_per_instance: number;
  previous_memory_in_mb_per_instance: number | null;
  process_type: string | null;
  package_state: string | null;
  buildpack_guid: string | null;
  buildpack_name: string | null;
  task_guid: string | null;
  task_name: string | null;
}

type AppEventRequired =
  | "state"
  | "app_guid"
  | "app_name"
  | "space_guid"
  | "space_name"
  | "org_guid"
  | "instance_count"
  | "memory_in_mb_per_instance";

/** What a test supplies; the guid defaults to a new one, created_at to now, the rest to what CF would write. */
export type SimAppEventInput = Pick<SimAppEvent, AppEventRequired> & Partial<Omit<SimAppEvent, AppEventRequired>>;

export interface SimServiceEvent {
  guid: string;
  created_at: string;
  state: ServiceEventState;
  org_guid: string;
  space_guid: string;
  space_name: string;
  service_instance_guid: string;
  service_instance_name: string;
  service_instance_type: "managed_service_instance" | "user_provided_service_instance";
  service_plan_guid: string | null;
  service_plan_name: string | null;
  service_guid: string | null;
  service_label: string | null;
  service_broker_guid: string | null;
  service_broker_name: string | null;
}

type ServiceEventRequired =
  | "state"
  | "org_guid"
  | "space_guid"
  | "space_name"
  | "service_instance_guid"
  | "service_instance_name";

export type SimServiceEventInput = Pick<SimServiceEvent, ServiceEventRequired> &
  Partial<Omit<SimServiceEvent, ServiceEventRequired>>;

/** Makes the next `times` requests to one server misbehave. */
export interface SimFailure {
  target?: "api" | "uaa";
  /**
   * Answer with this status, or close the connection without an answer ("reset"). Default 503, or none when only
   * `delayMs` is given: a slow but correct answer.
   */
  status?: number | "reset";
  /** Wait this long before answering (or misbehaving). */
  delayMs?: number;
  /** Default 1; Infinity keeps failing until clearFailures(). */
  times?: number;
}

export interface SimRequest {
  target: "api" | "uaa";
  method: string;
  path: string;
  query: Record<string, string>;
  /** 0 when the connection was reset. */
  status: number;
  authorized: boolean;
}

export interface CloudFoundrySimOptions {
  /** client_id → client_secret accepted for the client_credentials grant. */
  clients?: Record<string, string>;
  /** username → password accepted for the password grant (client `cf` with an empty secret, or a known client). */
  users?: Record<string, string>;
  /** `expires_in` of issued tokens; the API refuses a token once it has expired. */
  tokenTtlSeconds?: number;
  now?: () => number;
  /** Fixed ports for a demo; 0 (any free port) by default. */
  port?: number;
  uaaPort?: number;
}

export interface CloudFoundrySim {
  readonly url: string;
  readonly uaaUrl: string;
  addAppEvents(events: readonly SimAppEventInput[]): SimAppEvent[];
  addServiceEvents(events: readonly SimServiceEventInput[]): SimServiceEvent[];
  /** What CF currently lists, oldest first. */
  appEvents(): readonly SimAppEvent[];
  serviceEvents(): readonly SimServiceEvent[];
  /**
   * CF's retention clean-up, without reseeding: a Date drops events created before it; a guid drops that event and
   * every event listed before it. Returns how many were dropped.
   */
  purgeBefore(kind: SimEventKind, cutoff: Date | string): number;
  /** What the destructively_purge_all_and_reseed endpoints do; returns the reseeded events. */
  purgeAndReseed(kind: SimEventKind): readonly (SimAppEvent | SimServiceEvent)[];
  setFailure(failure: SimFailure): void;
  clearFailures(): void;
  /** Makes every issued token unknown, as a UAA key rotation would. */
  revokeTokens(): void;
  readonly tokensIssued: number;
  readonly requests: readonly SimRequest[];
  stop(): Promise<void>;
}

export const SIM_DEFAULTS = {
  client: { client_id: "paas-billing", client_secret: "paas-billing-secret" },
  user: { username: "admin", password: "admin-password" },
  tokenTtlSeconds: 600,
} as const;

const V2_MAX_RESULTS_PER_PAGE = 100;
const V3_MAX_PER_PAGE = 5000;
const DEFAULT_PER_PAGE = 50;
const V3_LIST_PARAMETERS = ["page", "per_page", "order_by", "after_guid", "guids"];

interface Answer {
  status: number;
  body?: unknown;
}

interface Stored<E> {
  id: number;
  time: number;
  event: E;
}

class EventLog<E extends { guid: string; created_at: string }> {
  entries: Stored<E>[] = [];
  private readonly ids = new Map<string, number>();
  private sequence = 0;
  private byTime: Stored<E>[] | undefined;

  append(event: E): void {
    if (this.ids.has(event.guid)) throw new Error(`usage event ${event.guid} is already listed`);
    const id = ++this.sequence;
    this.entries.push({ id, time: Date.parse(event.created_at), event });
    this.ids.set(event.guid, id);
    this.byTime = undefined;
  }

  /** v3's order: by created_at, then by id so events of the same second keep their listing order (as CAPI does). */
  chronological(): Stored<E>[] {
    this.byTime ??= [...this.entries].sort((a, b) => a.time - b.time || a.id - b.id);
    return this.byTime;
  }

  idOf(guid: string): number | undefined {
    return this.ids.get(guid);
  }

  keep(predicate: (entry: Stored<E>) => boolean): number {
    const before = this.entries.length;
    this.entries = this.entries.filter(predicate);
    this.byTime = undefined;
    this.ids.clear();
    for (const { id, event } of this.entries) this.ids.set(event.guid, id);
    return before - this.entries.length;
  }
}

export async function startCloudFoundrySim(options: CloudFoundrySimOptions = {}): Promise<CloudFoundrySim> {
  const clients = options.clients ?? { [SIM_DEFAULTS.client.client_id]: SIM_DEFAULTS.client.client_secret };
  const users = options.users ?? { [SIM_DEFAULTS.user.username]: SIM_DEFAULTS.user.password };
  const ttlSeconds = options.tokenTtlSeconds ?? SIM_DEFAULTS.tokenTtlSeconds;
  const now = options.now ?? Date.now;
  const stopping = new AbortController();

  const apps = new EventLog<SimAppEvent>();
  const services = new EventLog<SimServiceEvent>();
  // What a reseed recreates: the last event of each started process and of each service instance not deleted.
  const startedProcesses = new Map<string, SimAppEvent>();
  const liveInstances = new Map<string, SimServiceEvent>();
  const tokens = new Map<string, number>();
  const failures: Failures = {};
  const requests: SimRequest[] = [];
  let issued = 0;
  let apiUrl = "";
  let uaaUrl = "";

  const appendApp = (event: SimAppEvent): void => {
    apps.append(event);
    if (event.state === "STARTED") startedProcesses.set(event.app_guid, event);
    if (event.state === "STOPPED") startedProcesses.delete(event.app_guid);
  };
  const appendService = (event: SimServiceEvent): void => {
    services.append(event);
    if (event.state === "DELETED") liveInstances.delete(event.service_instance_guid);
    else liveInstances.set(event.service_instance_guid, event);
  };

  const purgeAndReseed = (kind: SimEventKind): (SimAppEvent | SimServiceEvent)[] => {
    const createdAt = cfTime(now());
    if (kind === "app") {
      apps.keep(() => false);
      const seeded = [...startedProcesses.values()].map(
        (last): SimAppEvent => ({
          ...last,
          guid: randomUUID(),
          created_at: createdAt,
          previous_state: null,
          previous_instance_count: null,
          previous_memory_in_mb_per_instance: null,
        }),
      );
      for (const event of seeded) apps.append(event);
      return seeded;
    }
    services.keep(() => false);
    const seeded = [...liveInstances.values()].map(
      (last): SimServiceEvent => ({ ...last, guid: randomUUID(), created_at: createdAt, state: "CREATED" }),
    );
    for (const event of seeded) services.append(event);
    return seeded;
  };

  const authorize = (req: IncomingMessage): "missing" | "invalid" | "ok" => {
    const match = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (!match?.[1]) return "missing";
    const expiresAt = tokens.get(match[1]);
    return expiresAt !== undefined && now() < expiresAt ? "ok" : "invalid";
  };

  const api = (req: IncomingMessage, url: URL, entry: SimRequest): Answer => {
    const { pathname: path } = url;
    const version = path.startsWith("/v2/") ? "v2" : "v3";
    if (req.method === "GET" && path === "/") return { status: 200, body: rootDocument(apiUrl, uaaUrl) };
    if (req.method === "GET" && path === "/v2/info") return { status: 200, body: infoDocument(uaaUrl) };
    const route = usageRoute(req.method ?? "", path);
    if (!route) return cfError(version, 404, 10000, "NotFound", "Unknown request");
    const auth = authorize(req);
    if (auth === "missing") return cfError(version, 401, 10002, "NotAuthenticated", "Authentication error");
    if (auth === "invalid") return cfError(version, 401, 1000, "InvalidAuthToken", "Invalid Auth Token");
    entry.authorized = true;
    if (route.action === "purge") {
      purgeAndReseed(route.kind);
      return route.version === "v2" ? { status: 204 } : { status: 200, body: {} };
    }
    const list = <E extends SimEvent>(log: EventLog<E>, render: (event: E, version: "v2" | "v3") => unknown) =>
      route.version === "v2"
        ? listV2(log, route.kind, url, (e) => render(e, "v2"))
        : listV3(log, route.kind, url, apiUrl, (e) => render(e, "v3"));
    return route.kind === "app"
      ? list(apps, (e, v) => renderApp(e, v, apiUrl))
      : list(services, (e, v) => renderService(e, v, apiUrl));
  };

  const uaa = (req: IncomingMessage, url: URL, form: URLSearchParams, entry: SimRequest): Answer => {
    if (req.method !== "POST" || url.pathname !== "/oauth/token") {
      return { status: 404, body: { error: "not_found", error_description: "No such endpoint" } };
    }
    const basic = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (!basic?.[1]) {
      return {
        status: 401,
        body: { error: "unauthorized", error_description: "Full authentication is required to access this resource" },
      };
    }
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const clientId = colon < 0 ? decoded : decoded.slice(0, colon);
    const clientSecret = colon < 0 ? "" : decoded.slice(colon + 1);
    const badCredentials: Answer = {
      status: 401,
      body: { error: "unauthorized", error_description: "Bad credentials" },
    };
    const grant = form.get("grant_type");
    if (grant === "client_credentials") {
      if (clients[clientId] === undefined || clients[clientId] !== clientSecret) return badCredentials;
    } else if (grant === "password") {
      const knownClient = (clientId === "cf" && clientSecret === "") || clients[clientId] === clientSecret;
      const username = form.get("username") ?? "";
      if (!knownClient || users[username] === undefined || users[username] !== form.get("password")) {
        return badCredentials;
      }
    } else {
      return {
        status: 400,
        body: { error: "unsupported_grant_type", error_description: `Unsupported grant type: ${grant ?? ""}` },
      };
    }
    entry.authorized = true;
    const token = randomBytes(24).toString("hex");
    tokens.set(token, now() + ttlSeconds * 1000);
    issued++;
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: "bearer",
        expires_in: ttlSeconds,
        scope: "cloud_controller.admin_read_only usage_events.read",
        jti: randomUUID(),
      },
    };
  };

  const serve = async (target: "api" | "uaa", req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    const entry: SimRequest = {
      target,
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      authorized: false,
    };
    requests.push(entry);
    const body = await readBody(req);
    const failure = takeFailure(failures, target);
    if (failure?.delayMs) {
      await delay(failure.delayMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) return;
    }
    if (failure?.status === "reset") {
      req.socket.destroy();
      return;
    }
    const answer =
      typeof failure?.status === "number"
        ? injectedFailure(target, failure.status)
        : target === "api"
          ? api(req, url, entry)
          : uaa(req, url, new URLSearchParams(body), entry);
    entry.status = answer.status;
    const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...(text === "" ? {} : { "content-type": "application/json;charset=utf-8" }),
      "x-vcap-request-id": randomUUID(),
    });
    res.end(text);
  };

  const handler = (target: "api" | "uaa") => (req: IncomingMessage, res: ServerResponse) => {
    serve(target, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: 10001, title: "CF-ServerError", detail: String(err) }] }));
    });
  };
  const apiServer = createServer(handler("api"));
  const uaaServer = createServer(handler("uaa"));
  apiUrl = `http://127.0.0.1:${await listen(apiServer, options.port ?? 0)}`;
  uaaUrl = `http://127.0.0.1:${await listen(uaaServer, options.uaaPort ?? 0)}`;

  return {
    url: apiUrl,
    uaaUrl,
    addAppEvents(inputs) {
      const events = inputs.map((input) => completeAppEvent(input, now()));
      for (const event of events) appendApp(event);
      return events;
    },
    addServiceEvents(inputs) {
      const events = inputs.map((input) => completeServiceEvent(input, now()));
      for (const event of events) appendService(event);
      return events;
    },
    appEvents: () => apps.entries.map((e) => e.event),
    serviceEvents: () => services.entries.map((e) => e.event),
    purgeBefore(kind, cutoff) {
      return kind === "app" ? purgeBefore(apps, kind, cutoff) : purgeBefore(services, kind, cutoff);
    },
    purgeAndReseed,
    setFailure(failure) {
      failures[failure.target ?? "api"] = {
        // A delay alone slows the answer down without turning it into an error.
        status: failure.status ?? (failure.delayMs === undefined ? 503 : undefined),
        delayMs: failure.delayMs ?? 0,
        times: failure.times ?? 1,
      };
    },
    clearFailures() {
      delete failures.api;
      delete failures.uaa;
    },
    revokeTokens() {
      tokens.clear();
    },
    get tokensIssued() {
      return issued;
    },
    requests,
    async stop() {
      stopping.abort();
      await Promise.all([close(apiServer), close(uaaServer)]);
    },
  };
}

type SimEvent = SimAppEvent | SimServiceEvent;

interface ActiveFailure {
  status: number | "reset" | undefined;
  delayMs: number;
  times: number;
}

type Failures = Partial<Record<"api" | "uaa", ActiveFailure>>;

function purgeBefore<E extends SimEvent>(log: EventLog<E>, kind: SimEventKind, cutoff: Date | string): number {
  if (cutoff instanceof Date) return log.keep((e) => e.time >= cutoff.getTime());
  const id = log.idOf(cutoff);
  if (id === undefined) throw new Error(`no ${kind} usage event ${cutoff} to purge up to`);
  return log.keep((e) => e.id > id);
}

interface UsageRoute {
  version: "v2" | "v3";
  kind: SimEventKind;
  action: "list" | "purge";
}

function usageRoute(method: string, path: string): UsageRoute | undefined {
  const match = /^\/(v2|v3)\/(app|service)_usage_events(\/.*)?$/.exec(path);
  if (!match) return undefined;
  const version = match[1] as "v2" | "v3";
  const kind = match[2] as SimEventKind;
  const rest = match[3] ?? "";
  if (method === "GET" && rest === "") return { version, kind, action: "list" };
  const purge =
    version === "v3"
      ? "/actions/destructively_purge_all_and_reseed"
      : kind === "app"
        ? "/destructively_purge_all_and_reseed_started_apps"
        : "/destructively_purge_all_and_reseed_existing_instances";
  if (method === "POST" && rest === purge) return { version, kind, action: "purge" };
  return undefined;
}

function listV2<E extends SimEvent>(
  log: EventLog<E>,
  kind: SimEventKind,
  url: URL,
  render: (event: E) => unknown,
): Answer {
  const q = url.searchParams;
  const perPage = positiveInt(q.get("results-per-page"), DEFAULT_PER_PAGE);
  if (perPage === undefined) return cfError("v2", 400, 10005, "BadQueryParameter", "results-per-page must be > 0");
  if (perPage > V2_MAX_RESULTS_PER_PAGE) {
    return cfError(
      "v2",
      400,
      10005,
      "BadQueryParameter",
      `The query parameter is invalid: results_per_page must be <= ${V2_MAX_RESULTS_PER_PAGE}`,
    );
  }
  const page = positiveInt(q.get("page"), 1);
  if (page === undefined) return cfError("v2", 400, 10005, "BadQueryParameter", "The query parameter is invalid: page");
  const direction = q.get("order-direction") ?? "asc";
  if (direction !== "asc" && direction !== "desc") {
    return cfError("v2", 400, 10005, "BadQueryParameter", `The query parameter is invalid: ${direction}`);
  }
  const afterGuid = q.get("after_guid");
  let entries = log.entries;
  if (afterGuid !== null) {
    const id = log.idOf(afterGuid);
    if (id === undefined) {
      return cfError("v2", 400, 10005, "BadQueryParameter", `The query parameter is invalid: ${afterGuid}`);
    }
    entries = entries.filter((e) => e.id > id);
  }
  if (direction === "desc") entries = [...entries].reverse();
  const totalPages = Math.max(1, Math.ceil(entries.length / perPage));
  const link = (target: number) => {
    const params = new URLSearchParams();
    if (afterGuid !== null) params.set("after_guid", afterGuid);
    params.set("order-direction", direction);
    params.set("page", String(target));
    params.set("results-per-page", String(perPage));
    return `/v2/${kind}_usage_events?${params.toString()}`;
  };
  return {
    status: 200,
    body: {
      total_results: entries.length,
      total_pages: totalPages,
      prev_url: page > 1 ? link(page - 1) : null,
      next_url: page < totalPages ? link(page + 1) : null,
      resources: entries.slice((page - 1) * perPage, page * perPage).map((e) => render(e.event)),
    },
  };
}

function listV3<E extends SimEvent>(
  log: EventLog<E>,
  kind: SimEventKind,
  url: URL,
  apiUrl: string,
  render: (event: E) => unknown,
): Answer {
  const q = url.searchParams;
  const unknown = [...new Set(q.keys())].filter((name) => !V3_LIST_PARAMETERS.includes(name));
  if (unknown.length > 0) {
    return cfError(
      "v3",
      400,
      10005,
      "BadQueryParameter",
      `Unknown query parameter(s): '${unknown.join("', '")}'. Valid parameters are: '${V3_LIST_PARAMETERS.join("', '")}'`,
    );
  }
  const perPage = positiveInt(q.get("per_page"), DEFAULT_PER_PAGE);
  if (perPage === undefined || perPage > V3_MAX_PER_PAGE) {
    return cfError("v3", 400, 10005, "BadQueryParameter", `Per page must be between 1 and ${V3_MAX_PER_PAGE}`);
  }
  const page = positiveInt(q.get("page"), 1);
  if (page === undefined) return cfError("v3", 400, 10005, "BadQueryParameter", "Page must be greater than 0");
  const orderBy = q.get("order_by") ?? "created_at";
  if (orderBy !== "created_at" && orderBy !== "-created_at") {
    return cfError("v3", 400, 10005, "BadQueryParameter", "Order by can only be: 'created_at'");
  }
  const afterGuid = q.get("after_guid");
  let entries = log.chronological();
  if (afterGuid !== null) {
    const id = log.idOf(afterGuid);
    if (id === undefined) {
      return cfError(
        "v3",
        422,
        10008,
        "UnprocessableEntity",
        `After guid filter must be a valid ${kind} usage event guid.`,
      );
    }
    entries = entries.filter((e) => e.id > id);
  }
  const guids = q.get("guids");
  if (guids !== null) {
    const wanted = new Set(guids.split(","));
    entries = entries.filter((e) => wanted.has(e.event.guid));
  }
  if (orderBy === "-created_at") entries = [...entries].reverse();
  const totalPages = Math.max(1, Math.ceil(entries.length / perPage));
  const link = (target: number) => {
    const params = new URLSearchParams();
    if (afterGuid !== null) params.set("after_guid", afterGuid);
    if (guids !== null) params.set("guids", guids);
    if (q.has("order_by")) params.set("order_by", orderBy);
    params.set("page", String(target));
    params.set("per_page", String(perPage));
    return { href: `${apiUrl}/v3/${kind}_usage_events?${params.toString()}` };
  };
  return {
    status: 200,
    body: {
      pagination: {
        total_results: entries.length,
        total_pages: totalPages,
        first: link(1),
        last: link(totalPages),
        next: page < totalPages ? link(page + 1) : null,
        previous: page > 1 ? link(page - 1) : null,
      },
      resources: entries.slice((page - 1) * perPage, page * perPage).map((e) => render(e.event)),
    },
  };
}

function renderApp(event: SimAppEvent, version: "v2" | "v3", apiUrl: string): unknown {
  const { guid, created_at, ...entity } = event;
  if (version === "v2") {
    return { metadata: { guid, url: `/v2/app_usage_events/${guid}`, created_at }, entity };
  }
  return {
    guid,
    created_at,
    updated_at: created_at,
    state: { current: event.state, previous: event.previous_state },
    app: { guid: event.parent_app_guid, name: event.parent_app_name },
    process: { guid: event.app_guid, type: event.process_type },
    space: { guid: event.space_guid, name: event.space_name },
    organization: { guid: event.org_guid },
    buildpack: { guid: event.buildpack_guid, name: event.buildpack_name },
    task: { guid: event.task_guid, name: event.task_name },
    memory_in_mb_per_instance: {
      current: event.memory_in_mb_per_instance,
      previous: event.previous_memory_in_mb_per_instance,
    },
    instance_count: { current: event.instance_count, previous: event.previous_instance_count },
    links: { self: { href: `${apiUrl}/v3/app_usage_events/${guid}` } },
  };
}

function renderService(event: SimServiceEvent, version: "v2" | "v3", apiUrl: string): unknown {
  const { guid, created_at, ...entity } = event;
  if (version === "v2") {
    return { metadata: { guid, url: `/v2/service_usage_events/${guid}`, created_at }, entity };
  }
  return {
    guid,
    created_at,
    updated_at: created_at,
    state: event.state,
    space: { guid: event.space_guid, name: event.space_name },
    organization: { guid: event.org_guid },
    service_instance: {
      guid: event.service_instance_guid,
      name: event.service_instance_name,
      type: event.service_instance_type,
    },
    service_plan: { guid: event.service_plan_guid, name: event.service_plan_name },
    service_offering: { guid: event.service_guid, name: event.service_label },
    service_broker: { guid: event.service_broker_guid, name: event.service_broker_name },
    links: { self: { href: `${apiUrl}/v3/service_usage_events/${guid}` } },
  };
}

function rootDocument(apiUrl: string, uaaUrl: string): unknown {
  return {
    links: {
      self: { href: apiUrl },
      cloud_controller_v2: { href: `${apiUrl}/v2`, meta: { version: "2.210.0" } },
      cloud_controller_v3: { href: `${apiUrl}/v3`, meta: { version: "3.145.0" } },
      login: { href: uaaUrl },
      uaa: { href: uaaUrl },
    },
  };
}

function infoDocument(uaaUrl: string): unknown {
  return {
    name: "fleetledger-cf-sim",
    build: "",
    support: "",
    version: 0,
    description: "Cloud Foundry usage-event simulator",
    authorization_endpoint: uaaUrl,
    token_endpoint: uaaUrl,
    min_cli_version: null,
    min_recommended_cli_version: null,
    api_version: "2.210.0",
    osbapi_version: "2.15",
  };
}

/** A CF error body: v2 `{code, description, error_code}`, v3 `{errors: [{code, title, detail}]}`. */
function cfError(version: "v2" | "v3", status: number, code: number, name: string, detail: string): Answer {
  return version === "v2"
    ? { status, body: { code, description: detail, error_code: `CF-${name}` } }
    : { status, body: { errors: [{ detail, title: `CF-${name}`, code }] } };
}

function injectedFailure(target: "api" | "uaa", status: number): Answer {
  if (target === "uaa") return { status, body: { error: "server_error", error_description: "injected failure" } };
  return status === 503
    ? cfError("v3", 503, 10015, "ServiceUnavailable", "injected failure")
    : cfError("v3", status, 10001, "ServerError", "injected failure");
}

function takeFailure(failures: Failures, target: "api" | "uaa"): ActiveFailure | undefined {
  const failure = failures[target];
  if (!failure) return undefined;
  failure.times--;
  if (failure.times <= 0) delete failures[target];
  return failure;
}

function completeAppEvent(input: SimAppEventInput, now: number): SimAppEvent {
  const process = input.state === "STARTED" || input.state === "STOPPED" || input.state.startsWith("STAGING");
  return {
    guid: input.guid ?? randomUUID(),
    created_at: input.created_at ?? cfTime(now),
    state: input.state,
    previous_state: input.previous_state ?? null,
    app_guid: input.app_guid,
    app_name: input.app_name,
    parent_app_guid: input.parent_app_guid ?? input.app_guid,
    parent_app_name: input.parent_app_name ?? input.app_name,
    space_guid: input.space_guid,
    space_name: input.space_name,
    org_guid: input.org_guid,
    instance_count: input.instance_count,
    previous_instance_count: input.previous_instance_count ?? null,
    memory_in_mb_per_instance: input.memory_in_mb_per_instance,
    previous_memory_in_mb_per_instance: input.previous_memory_in_mb_per_instance ?? null,
    process_type: input.process_type !== undefined ? input.process_type : process ? "web" : null,
    package_state: input.package_state !== undefined ? input.package_state : process ? "STAGED" : null,
    buildpack_guid: input.buildpack_guid ?? null,
    buildpack_name: input.buildpack_name ?? null,
    task_guid: input.task_guid ?? null,
    task_name: input.task_name ?? null,
  };
}

function completeServiceEvent(input: SimServiceEventInput, now: number): SimServiceEvent {
  return {
    guid: input.guid ?? randomUUID(),
    created_at: input.created_at ?? cfTime(now),
    state: input.state,
    org_guid: input.org_guid,
    space_guid: input.space_guid,
    space_name: input.space_name,
    service_instance_guid: input.service_instance_guid,
    service_instance_name: input.service_instance_name,
    service_instance_type: input.service_instance_type ?? "managed_service_instance",
    service_plan_guid: input.service_plan_guid ?? null,
    service_plan_name: input.service_plan_name ?? null,
    service_guid: input.service_guid ?? null,
    service_label: input.service_label ?? null,
    service_broker_guid: input.service_broker_guid ?? null,
    service_broker_name: input.service_broker_name ?? null,
  };
}

/** CAPI's timestamp format: ISO-8601 UTC to the second. */
export function cfTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function positiveInt(value: string | null, fallback: number): number | undefined {
  if (value === null) return fallback;
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Sizes of a generated foundation and the time its events span. */
export interface GenerateUsageEventsOptions {
  seed?: number;
  orgs?: number;
  spacesPerOrg?: number;
  appsPerSpace?: number;
  servicesPerSpace?: number;
  /** First possible event; default 2024-01-01T00:00:00Z. */
  start?: Date | string;
  days?: number;
}

export interface GeneratedUsageEvents {
  app: SimAppEvent[];
  service: SimServiceEvent[];
}

const SPACE_NAMES = ["prod", "staging", "dev", "tools", "sandbox"];
const APP_NAMES = ["api", "web", "worker", "admin", "frontend", "scheduler", "importer", "search"];
const MEMORY_MB = [128, 256, 512, 1024, 2048];
const BUILDPACKS = ["nodejs_buildpack", "java_buildpack", "python_buildpack", "go_buildpack", "staticfile_buildpack"];
const OFFERINGS = [
  { label: "postgres", broker: "rds-broker", plans: ["tiny-unencrypted", "small", "medium-ha"] },
  { label: "mysql", broker: "rds-broker", plans: ["small", "large-ha"] },
  { label: "redis", broker: "elasticache-broker", plans: ["tiny", "medium-ha"] },
  { label: "aws-s3-bucket", broker: "s3-broker", plans: ["default"] },
  { label: "opensearch", broker: "aiven-broker", plans: ["small", "large"] },
];

/**
 * A reproducible foundation history for the billing bench and demos: per app, staging, start, scaling, tasks and
 * sometimes a stop; per service instance, creation, sometimes a plan change and a deletion; a few user-provided
 * instances. Events come back oldest first with CF-style guids and second-resolution timestamps.
 */
export function generateUsageEvents(options: GenerateUsageEventsOptions = {}): GeneratedUsageEvents {
  const random = mulberry32(options.seed ?? 1);
  const uuid = () => seededUuid(random);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const start = new Date(options.start ?? "2024-01-01T00:00:00Z").getTime();
  const end = start + (options.days ?? 30) * 86_400_000;
  const app: { at: number; event: Omit<SimAppEvent, "guid" | "created_at"> }[] = [];
  const service: { at: number; event: Omit<SimServiceEvent, "guid" | "created_at"> }[] = [];
  const buildpacks = new Map(BUILDPACKS.map((name) => [name, uuid()]));
  const offerings = OFFERINGS.map((o) => ({ ...o, guid: uuid(), brokerGuid: uuid(), planGuids: o.plans.map(uuid) }));

  for (let o = 1; o <= (options.orgs ?? 3); o++) {
    const orgGuid = uuid();
    for (let s = 0; s < (options.spacesPerOrg ?? 2); s++) {
      const round = Math.floor(s / SPACE_NAMES.length);
      const space = {
        space_guid: uuid(),
        space_name: `${SPACE_NAMES[s % SPACE_NAMES.length]}${round > 0 ? `-${round}` : ""}`,
        org_guid: orgGuid,
      };
      for (let a = 0; a < (options.appsPerSpace ?? 3); a++) {
        const appGuid = uuid();
        const appName = `${pick(APP_NAMES)}-${o}${s}${a}`;
        const buildpack = pick(BUILDPACKS);
        const base = {
          ...space,
          app_guid: appGuid,
          app_name: appName,
          parent_app_guid: appGuid,
          parent_app_name: appName,
          buildpack_guid: buildpacks.get(buildpack) ?? null,
          buildpack_name: buildpack,
          task_guid: null,
          task_name: null,
        };
        let memory = pick(MEMORY_MB);
        let instances = between(1, 4);
        let t = start + Math.floor(random() * (end - start) * 0.5);
        const record = (state: AppEventState, extra: Partial<SimAppEvent> = {}) => {
          if (t < end) {
            const process = !state.startsWith("TASK");
            app.push({
              at: t,
              event: {
                ...base,
                state,
                previous_state: null,
                instance_count: instances,
                previous_instance_count: null,
                memory_in_mb_per_instance: memory,
                previous_memory_in_mb_per_instance: null,
                process_type: process ? "web" : null,
                package_state: state === "STAGING_STARTED" ? "PENDING" : "STAGED",
                ...extra,
              },
            });
          }
        };
        record("STAGING_STARTED", { instance_count: 1 });
        t += between(30, 240) * 1000;
        record("STAGING_STOPPED", { instance_count: 1 });
        if (random() < 0.5) record("BUILDPACK_SET");
        t += between(5, 60) * 1000;
        record("STARTED", { previous_state: "STOPPED" });
        let running = true;
        while (t < end) {
          t += between(1, 96) * 3_600_000;
          const roll = random();
          if (!running) {
            if (roll < 0.5) break;
            record("STARTED", { previous_state: "STOPPED" });
            running = true;
          } else if (roll < 0.35) {
            const previous = { previous_instance_count: instances, previous_memory_in_mb_per_instance: memory };
            instances = between(1, 6);
            if (random() < 0.3) memory = pick(MEMORY_MB);
            record("STARTED", { previous_state: "STARTED", ...previous });
          } else if (roll < 0.7) {
            const task = { task_guid: uuid(), task_name: `task-${between(1, 999)}`, instance_count: 1 };
            const taskMemory = { memory_in_mb_per_instance: pick(MEMORY_MB) };
            record("TASK_STARTED", { ...task, ...taskMemory });
            t += between(10, 1800) * 1000;
            record("TASK_STOPPED", { ...task, ...taskMemory, previous_state: "TASK_STARTED" });
          } else if (roll < 0.85) {
            record("STOPPED", { previous_state: "STARTED" });
            running = false;
          }
        }
      }
      for (let i = 0; i < (options.servicesPerSpace ?? 2); i++) {
        const offering = pick(offerings);
        let plan = Math.floor(random() * offering.plans.length);
        const instance = {
          ...space,
          service_instance_guid: uuid(),
          service_instance_name: `${offering.label}-${o}${s}${i}`,
          service_instance_type: "managed_service_instance" as const,
          service_guid: offering.guid,
          service_label: offering.label,
          service_broker_guid: offering.brokerGuid,
          service_broker_name: offering.broker,
        };
        const push = (at: number, state: ServiceEventState) => {
          if (at < end) {
            service.push({
              at,
              event: {
                ...instance,
                state,
                service_plan_guid: offering.planGuids[plan] ?? null,
                service_plan_name: offering.plans[plan] ?? null,
              },
            });
          }
        };
        let t = start + Math.floor(random() * (end - start) * 0.6);
        push(t, "CREATED");
        if (random() < 0.3 && offering.plans.length > 1) {
          t += between(1, 240) * 3_600_000;
          plan = (plan + 1) % offering.plans.length;
          push(t, "UPDATED");
        }
        if (random() < 0.2) push(t + between(1, 240) * 3_600_000, "DELETED");
      }
      if (random() < 0.3) {
        service.push({
          at: start + Math.floor(random() * (end - start)),
          event: {
            ...space,
            state: "CREATED",
            service_instance_guid: uuid(),
            service_instance_name: `ups-${o}${s}`,
            service_instance_type: "user_provided_service_instance",
            service_plan_guid: null,
            service_plan_name: null,
            service_guid: null,
            service_label: null,
            service_broker_guid: null,
            service_broker_name: null,
          },
        });
      }
    }
  }
  const finish = <E>(events: { at: number; event: E }[]) =>
    events
      .map((e, order) => ({ ...e, order }))
      .sort((a, b) => a.at - b.at || a.order - b.order)
      .map(({ at, event }) => ({ guid: uuid(), created_at: cfTime(at), ...event }));
  return { app: finish(app), service: finish(service) };
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seededUuid(random: () => number): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

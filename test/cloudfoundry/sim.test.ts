import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  type CloudFoundrySim,
  cfTime,
  generateUsageEvents,
  SIM_DEFAULTS,
  type SimAppEventInput,
  startCloudFoundrySim,
} from "../../src/sim/cloudfoundry.js";

const T0 = Date.parse("2024-03-01T00:00:00Z");

function appInputs(count: number, from = 0): SimAppEventInput[] {
  return Array.from({ length: count }, (_, i) => ({
    state: "STARTED",
    app_guid: `app-${(from + i) % 7}`,
    app_name: `app-${(from + i) % 7}`,
    space_guid: "space-1",
    space_name: "prod",
    org_guid: "org-1",
    instance_count: 1 + (i % 3),
    memory_in_mb_per_instance: 256,
    created_at: cfTime(T0 + (from + i) * 1000),
  }));
}

type Resource = Record<string, unknown>;

/** Every shape the tests read, as one view: each test only looks at the fields its endpoint answers with. */
interface Body {
  links: Record<string, { href: string }>;
  token_endpoint: string;
  errors: { code: number; title: string; detail: string }[];
  code: number;
  description: string;
  error_code: string;
  pagination: { total_results: number; total_pages: number; next: { href: string } | null };
  total_results: number;
  next_url: string | null;
  resources: (Resource & { guid: string; metadata: { guid: string }; entity: Resource })[];
}

async function call(url: string, init: { method?: "GET" | "POST"; token?: string; body?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `bearer ${init.token}`;
  const res = await request(url, { method: init.method ?? "GET", headers, body: init.body });
  const text = await res.body.text();
  return { status: res.statusCode, json: (text === "" ? undefined : JSON.parse(text)) as Body | undefined };
}

async function token(sim: CloudFoundrySim, form: Record<string, string>, client: string, secret: string) {
  const res = await request(`${sim.uaaUrl}/oauth/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString("base64")}`,
    },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: res.statusCode,
    json: (await res.body.json()) as { access_token?: string; error?: string; error_description?: string },
  };
}

async function adminToken(sim: CloudFoundrySim): Promise<string> {
  const { client_id, client_secret } = SIM_DEFAULTS.client;
  const res = await token(sim, { grant_type: "client_credentials" }, client_id, client_secret);
  return res.json.access_token ?? "";
}

describe("Cloud Foundry simulator", () => {
  let sim: CloudFoundrySim;
  afterEach(async () => sim?.stop());

  it("advertises its UAA at / (v3 links) and /v2/info", async () => {
    sim = await startCloudFoundrySim();
    const root = await call(`${sim.url}/`);
    expect(root.status).toBe(200);
    expect(root.json?.links.uaa?.href).toBe(sim.uaaUrl);
    expect(root.json?.links.login?.href).toBe(sim.uaaUrl);
    const info = await call(`${sim.url}/v2/info`);
    expect(info.json?.token_endpoint).toBe(sim.uaaUrl);
    expect(sim.uaaUrl).not.toBe(sim.url);
  });

  it("issues tokens for client credentials and the password grant, and refuses wrong ones", async () => {
    sim = await startCloudFoundrySim({ tokenTtlSeconds: 120 });
    const { client_id, client_secret } = SIM_DEFAULTS.client;
    const { username, password } = SIM_DEFAULTS.user;

    const client = await token(sim, { grant_type: "client_credentials" }, client_id, client_secret);
    expect(client.status).toBe(200);
    expect(client.json).toMatchObject({ token_type: "bearer", expires_in: 120 });
    expect(client.json.access_token).toEqual(expect.any(String));

    const user = await token(sim, { grant_type: "password", username, password }, "cf", "");
    expect(user.status).toBe(200);

    const wrongSecret = await token(sim, { grant_type: "client_credentials" }, client_id, "nope");
    expect(wrongSecret).toEqual({ status: 401, json: { error: "unauthorized", error_description: "Bad credentials" } });
    const wrongPassword = await token(sim, { grant_type: "password", username, password: "nope" }, "cf", "");
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.json.error).toBe("unauthorized");
    const cfClientCredentials = await token(sim, { grant_type: "client_credentials" }, "cf", "");
    expect(cfClientCredentials.status).toBe(401);
    const badGrant = await token(sim, { grant_type: "implicit" }, client_id, client_secret);
    expect(badGrant.status).toBe(400);
    expect(badGrant.json.error).toBe("unsupported_grant_type");

    expect(sim.tokensIssued).toBe(2);
  });

  it("requires a valid, unexpired bearer token, answering CF's 401 errors", async () => {
    let now = T0;
    sim = await startCloudFoundrySim({ now: () => now, tokenTtlSeconds: 60 });
    const missing = await call(`${sim.url}/v3/app_usage_events`);
    expect(missing).toEqual({
      status: 401,
      json: { errors: [{ code: 10002, title: "CF-NotAuthenticated", detail: "Authentication error" }] },
    });
    const invalid = await call(`${sim.url}/v3/app_usage_events`, { token: "forged" });
    expect(invalid.status).toBe(401);
    expect(invalid.json?.errors[0]).toMatchObject({ code: 1000, title: "CF-InvalidAuthToken" });
    const v2 = await call(`${sim.url}/v2/app_usage_events`, { token: "forged" });
    expect(v2.json).toEqual({ code: 1000, description: "Invalid Auth Token", error_code: "CF-InvalidAuthToken" });

    const valid = await adminToken(sim);
    expect((await call(`${sim.url}/v3/app_usage_events`, { token: valid })).status).toBe(200);
    now += 60_000;
    expect((await call(`${sim.url}/v3/app_usage_events`, { token: valid })).status).toBe(401);

    const fresh = await adminToken(sim);
    sim.revokeTokens();
    expect((await call(`${sim.url}/v3/app_usage_events`, { token: fresh })).status).toBe(401);
  });

  it("pages v3 app usage events in ascending order with after_guid and absolute next hrefs", async () => {
    sim = await startCloudFoundrySim();
    const added = sim.addAppEvents(appInputs(120));
    const auth = await adminToken(sim);

    const first = await call(`${sim.url}/v3/app_usage_events?per_page=50`, { token: auth });
    expect(first.status).toBe(200);
    expect(first.json?.pagination).toMatchObject({ total_results: 120, total_pages: 3, previous: null });
    expect(first.json?.resources.map((r) => r.guid)).toEqual(added.slice(0, 50).map((e) => e.guid));
    const next = first.json?.pagination.next?.href ?? "";
    expect(next.startsWith(`${sim.url}/v3/app_usage_events?`)).toBe(true);

    const second = await call(next, { token: auth });
    expect(second.json?.resources[0]?.guid).toBe(added[50]?.guid);

    const after = await call(`${sim.url}/v3/app_usage_events?per_page=50&after_guid=${added[99]?.guid}`, {
      token: auth,
    });
    expect(after.json?.pagination).toMatchObject({ total_results: 20, total_pages: 1, next: null });
    expect(after.json?.resources.map((r) => r.guid)).toEqual(added.slice(100).map((e) => e.guid));

    const newestFirst = await call(`${sim.url}/v3/app_usage_events?per_page=5&order_by=-created_at`, { token: auth });
    expect(newestFirst.json?.resources[0]?.guid).toBe(added[119]?.guid);
  });

  it("answers an unknown v3 after_guid with 422 CF-UnprocessableEntity and bad paging with 400", async () => {
    sim = await startCloudFoundrySim();
    sim.addAppEvents(appInputs(3));
    const auth = await adminToken(sim);
    const unknown = await call(`${sim.url}/v3/app_usage_events?after_guid=gone`, { token: auth });
    expect(unknown).toEqual({
      status: 422,
      json: {
        errors: [
          {
            code: 10008,
            title: "CF-UnprocessableEntity",
            detail: "After guid filter must be a valid app usage event guid.",
          },
        ],
      },
    });
    const service = await call(`${sim.url}/v3/service_usage_events?after_guid=gone`, { token: auth });
    expect(service.json?.errors[0]?.detail).toBe("After guid filter must be a valid service usage event guid.");

    const tooMany = await call(`${sim.url}/v3/app_usage_events?per_page=5001`, { token: auth });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json?.errors[0]).toMatchObject({ code: 10005, title: "CF-BadQueryParameter" });
    const unknownParameter = await call(`${sim.url}/v3/app_usage_events?results-per-page=5`, { token: auth });
    expect(unknownParameter.status).toBe(400);
    expect(unknownParameter.json?.errors[0]?.detail).toContain("'results-per-page'");
  });

  it("pages v2 events by page number with relative next_url, 400 for an unknown after_guid", async () => {
    sim = await startCloudFoundrySim();
    const added = sim.addAppEvents(appInputs(120));
    const auth = await adminToken(sim);

    const first = await call(`${sim.url}/v2/app_usage_events?results-per-page=50&after_guid=${added[9]?.guid}`, {
      token: auth,
    });
    expect(first.json).toMatchObject({ total_results: 110, total_pages: 3, prev_url: null });
    expect(first.json?.resources[0]?.metadata.guid).toBe(added[10]?.guid);
    const nextUrl = first.json?.next_url;
    expect(nextUrl).toBe(
      `/v2/app_usage_events?after_guid=${added[9]?.guid}&order-direction=asc&page=2&results-per-page=50`,
    );
    const second = await call(`${sim.url}${nextUrl}`, { token: auth });
    expect(second.json?.resources[0]?.metadata.guid).toBe(added[60]?.guid);
    const last = await call(`${sim.url}${second.json?.next_url}`, { token: auth });
    expect(last.json?.resources).toHaveLength(10);
    expect(last.json?.next_url).toBeNull();

    const unknown = await call(`${sim.url}/v2/app_usage_events?after_guid=gone`, { token: auth });
    expect(unknown).toEqual({
      status: 400,
      json: { code: 10005, description: "The query parameter is invalid: gone", error_code: "CF-BadQueryParameter" },
    });
    const tooMany = await call(`${sim.url}/v2/app_usage_events?results-per-page=101`, { token: auth });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json?.description).toContain("results_per_page must be <= 100");
  });

  it("renders app and service events in the v2 entity and v3 resource shapes", async () => {
    sim = await startCloudFoundrySim();
    const [app] = sim.addAppEvents([
      {
        state: "STARTED",
        previous_state: "STOPPED",
        app_guid: "proc-1",
        app_name: "web",
        parent_app_guid: "app-1",
        parent_app_name: "shop",
        space_guid: "space-1",
        space_name: "prod",
        org_guid: "org-1",
        instance_count: 3,
        previous_instance_count: 1,
        memory_in_mb_per_instance: 512,
        buildpack_guid: "bp-1",
        buildpack_name: "nodejs_buildpack",
        created_at: "2024-03-01T10:00:00Z",
      },
    ]);
    const [service] = sim.addServiceEvents([
      {
        state: "CREATED",
        org_guid: "org-1",
        space_guid: "space-1",
        space_name: "prod",
        service_instance_guid: "si-1",
        service_instance_name: "db",
        service_plan_guid: "plan-1",
        service_plan_name: "small",
        service_guid: "offering-1",
        service_label: "postgres",
        service_broker_guid: "broker-1",
        service_broker_name: "rds-broker",
        created_at: "2024-03-01T11:00:00Z",
      },
    ]);
    const auth = await adminToken(sim);

    const v2App = (await call(`${sim.url}/v2/app_usage_events`, { token: auth })).json?.resources[0];
    expect(v2App).toEqual({
      metadata: { guid: app?.guid, url: `/v2/app_usage_events/${app?.guid}`, created_at: "2024-03-01T10:00:00Z" },
      entity: {
        state: "STARTED",
        previous_state: "STOPPED",
        app_guid: "proc-1",
        app_name: "web",
        parent_app_guid: "app-1",
        parent_app_name: "shop",
        space_guid: "space-1",
        space_name: "prod",
        org_guid: "org-1",
        instance_count: 3,
        previous_instance_count: 1,
        memory_in_mb_per_instance: 512,
        previous_memory_in_mb_per_instance: null,
        process_type: "web",
        package_state: "STAGED",
        buildpack_guid: "bp-1",
        buildpack_name: "nodejs_buildpack",
        task_guid: null,
        task_name: null,
      },
    });

    const v3App = (await call(`${sim.url}/v3/app_usage_events`, { token: auth })).json?.resources[0];
    expect(v3App).toEqual({
      guid: app?.guid,
      created_at: "2024-03-01T10:00:00Z",
      updated_at: "2024-03-01T10:00:00Z",
      state: { current: "STARTED", previous: "STOPPED" },
      app: { guid: "app-1", name: "shop" },
      process: { guid: "proc-1", type: "web" },
      space: { guid: "space-1", name: "prod" },
      organization: { guid: "org-1" },
      buildpack: { guid: "bp-1", name: "nodejs_buildpack" },
      task: { guid: null, name: null },
      memory_in_mb_per_instance: { current: 512, previous: null },
      instance_count: { current: 3, previous: 1 },
      links: { self: { href: `${sim.url}/v3/app_usage_events/${app?.guid}` } },
    });

    const v2Service = (await call(`${sim.url}/v2/service_usage_events`, { token: auth })).json?.resources[0];
    expect(v2Service?.entity).toMatchObject({
      state: "CREATED",
      service_instance_guid: "si-1",
      service_instance_type: "managed_service_instance",
      service_plan_guid: "plan-1",
      service_guid: "offering-1",
      service_label: "postgres",
    });
    const v3Service = (await call(`${sim.url}/v3/service_usage_events`, { token: auth })).json?.resources[0];
    expect(v3Service).toMatchObject({
      guid: service?.guid,
      state: "CREATED",
      service_instance: { guid: "si-1", name: "db", type: "managed_service_instance" },
      service_plan: { guid: "plan-1", name: "small" },
      service_offering: { guid: "offering-1", name: "postgres" },
      service_broker: { guid: "broker-1", name: "rds-broker" },
      organization: { guid: "org-1" },
    });
  });

  it("purges and reseeds through the v3 and v2 endpoints: old guids unknown, started apps and live instances back", async () => {
    const now = Date.parse("2024-04-01T12:00:00Z");
    sim = await startCloudFoundrySim({ now: () => now });
    const base = { space_guid: "s", space_name: "prod", org_guid: "o", memory_in_mb_per_instance: 64 };
    const apps = sim.addAppEvents([
      { ...base, state: "STARTED", app_guid: "a1", app_name: "a1", instance_count: 1 },
      { ...base, state: "STARTED", app_guid: "a2", app_name: "a2", instance_count: 1 },
      { ...base, state: "STARTED", app_guid: "a1", app_name: "a1", instance_count: 4 },
      { ...base, state: "STOPPED", app_guid: "a2", app_name: "a2", instance_count: 1 },
      { ...base, state: "TASK_STARTED", app_guid: "a3", app_name: "a3", instance_count: 1, task_guid: "t1" },
    ]);
    const si = { org_guid: "o", space_guid: "s", space_name: "prod" };
    sim.addServiceEvents([
      { ...si, state: "CREATED", service_instance_guid: "i1", service_instance_name: "i1" },
      { ...si, state: "CREATED", service_instance_guid: "i2", service_instance_name: "i2" },
      { ...si, state: "UPDATED", service_instance_guid: "i1", service_instance_name: "i1", service_plan_name: "big" },
      { ...si, state: "DELETED", service_instance_guid: "i2", service_instance_name: "i2" },
    ]);
    const auth = await adminToken(sim);

    const v3 = await call(`${sim.url}/v3/app_usage_events/actions/destructively_purge_all_and_reseed`, {
      method: "POST",
      token: auth,
    });
    expect(v3).toEqual({ status: 200, json: {} });
    const reseeded = (await call(`${sim.url}/v3/app_usage_events`, { token: auth })).json?.resources ?? [];
    expect(reseeded).toHaveLength(1);
    expect(reseeded[0]).toMatchObject({
      state: { current: "STARTED" },
      process: { guid: "a1" },
      instance_count: { current: 4 },
      created_at: "2024-04-01T12:00:00Z",
    });
    expect(apps.map((e) => e.guid)).not.toContain(reseeded[0]?.guid);
    const stale = await call(`${sim.url}/v3/app_usage_events?after_guid=${apps[4]?.guid}`, { token: auth });
    expect(stale.status).toBe(422);

    const v2 = await call(`${sim.url}/v2/service_usage_events/destructively_purge_all_and_reseed_existing_instances`, {
      method: "POST",
      token: auth,
    });
    expect(v2.status).toBe(204);
    const services = (await call(`${sim.url}/v2/service_usage_events`, { token: auth })).json?.resources ?? [];
    expect(services.map((r) => r.entity)).toEqual([
      expect.objectContaining({ service_instance_guid: "i1", state: "CREATED", service_plan_name: "big" }),
    ]);
    const v2Apps = await call(`${sim.url}/v2/app_usage_events/destructively_purge_all_and_reseed_started_apps`, {
      method: "POST",
      token: auth,
    });
    expect(v2Apps.status).toBe(204);
    expect(sim.appEvents()).toHaveLength(1);
  });

  it("drops events by age or up to a guid without reseeding", async () => {
    sim = await startCloudFoundrySim();
    const added = sim.addAppEvents(appInputs(10));
    expect(sim.purgeBefore("app", new Date(T0 + 3000))).toBe(3);
    expect(sim.purgeBefore("app", added[5]?.guid ?? "")).toBe(3);
    expect(sim.appEvents().map((e) => e.guid)).toEqual(added.slice(6).map((e) => e.guid));
    const auth = await adminToken(sim);
    expect((await call(`${sim.url}/v3/app_usage_events?after_guid=${added[5]?.guid}`, { token: auth })).status).toBe(
      422,
    );
  });

  it("injects 5xx answers, resets and slow answers, and logs every request", async () => {
    sim = await startCloudFoundrySim();
    sim.setFailure({ status: 503, times: 2 });
    expect((await call(`${sim.url}/`)).status).toBe(503);
    const second = await call(`${sim.url}/`);
    expect(second.json?.errors[0]).toMatchObject({ code: 10015, title: "CF-ServiceUnavailable" });
    expect((await call(`${sim.url}/`)).status).toBe(200);

    sim.setFailure({ target: "uaa", status: 500, times: Number.POSITIVE_INFINITY });
    const { client_id, client_secret } = SIM_DEFAULTS.client;
    expect((await token(sim, { grant_type: "client_credentials" }, client_id, client_secret)).status).toBe(500);
    expect((await token(sim, { grant_type: "client_credentials" }, client_id, client_secret)).status).toBe(500);
    sim.clearFailures();
    expect((await token(sim, { grant_type: "client_credentials" }, client_id, client_secret)).status).toBe(200);

    sim.setFailure({ status: "reset" });
    await expect(call(`${sim.url}/`)).rejects.toThrow();

    sim.setFailure({ delayMs: 300 });
    const started = Date.now();
    expect((await call(`${sim.url}/v2/info`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);

    expect(sim.requests.filter((r) => r.target === "api").map((r) => r.status)).toEqual([503, 503, 200, 0, 200]);
    expect(sim.requests.filter((r) => r.target === "uaa")).toHaveLength(3);
  });

  it("generates a reproducible, realistic foundation history", () => {
    const a = generateUsageEvents({ seed: 7, orgs: 2, spacesPerOrg: 2, appsPerSpace: 3, servicesPerSpace: 2 });
    const b = generateUsageEvents({ seed: 7, orgs: 2, spacesPerOrg: 2, appsPerSpace: 3, servicesPerSpace: 2 });
    const c = generateUsageEvents({ seed: 8, orgs: 2, spacesPerOrg: 2, appsPerSpace: 3, servicesPerSpace: 2 });
    expect(a).toEqual(b);
    expect(a.app.map((e) => e.guid)).not.toEqual(c.app.map((e) => e.guid));

    const times = a.app.map((e) => Date.parse(e.created_at));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(new Set(a.app.map((e) => e.guid)).size).toBe(a.app.length);
    expect(new Set(a.app.map((e) => e.org_guid)).size).toBe(2);
    expect(new Set(a.app.map((e) => e.app_guid)).size).toBe(12);
    const states = new Set(a.app.map((e) => e.state));
    for (const state of ["STAGING_STARTED", "STAGING_STOPPED", "STARTED", "TASK_STARTED", "TASK_STOPPED"]) {
      expect(states).toContain(state);
    }
    expect(a.service.filter((e) => e.state === "CREATED").length).toBeGreaterThanOrEqual(8);
    expect(a.app[0]?.created_at).toMatch(/^2024-01-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("serves generated events to both API versions alike", async () => {
    sim = await startCloudFoundrySim();
    const generated = generateUsageEvents({ seed: 3 });
    sim.addAppEvents(generated.app);
    sim.addServiceEvents(generated.service);
    const auth = await adminToken(sim);
    const v2 = await call(`${sim.url}/v2/app_usage_events?results-per-page=100`, { token: auth });
    const v3 = await call(`${sim.url}/v3/app_usage_events?per_page=100`, { token: auth });
    expect(v2.json?.total_results).toBe(generated.app.length);
    expect(v3.json?.pagination.total_results).toBe(generated.app.length);
    expect(v3.json?.resources.map((r) => r.guid)).toEqual(v2.json?.resources.map((r) => r.metadata.guid));
  });
});

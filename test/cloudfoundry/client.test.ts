import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  CfAuthError,
  CfHttpError,
  CfTransportError,
  CloudFoundryClient,
  type CloudFoundryClientOptions,
  UaaTokenSource,
  UnknownAfterGuidError,
} from "../../src/cloudfoundry/client.js";
import {
  type CloudFoundrySim,
  cfTime,
  SIM_DEFAULTS,
  type SimAppEventInput,
  startCloudFoundrySim,
} from "../../src/sim/cloudfoundry.js";

const T0 = Date.parse("2024-03-01T00:00:00Z");

function appInputs(count: number): SimAppEventInput[] {
  return Array.from({ length: count }, (_, i) => ({
    state: "STARTED",
    app_guid: `app-${i}`,
    app_name: `app-${i}`,
    space_guid: "space-1",
    space_name: "prod",
    org_guid: "org-1",
    instance_count: 1,
    memory_in_mb_per_instance: 128,
    created_at: cfTime(T0 + i * 1000),
  }));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("CloudFoundryClient against the simulator", () => {
  let sim: CloudFoundrySim;
  const clients: (CloudFoundryClient | UaaTokenSource)[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await sim?.stop();
  });

  const connect = (options: Partial<CloudFoundryClientOptions> = {}) => {
    const client = new CloudFoundryClient({ api: sim.url, auth: SIM_DEFAULTS.client, ...options });
    clients.push(client);
    return client;
  };

  it.each(["v3", "v2"] as const)("fetches %s pages with one request each and one cached token", async (version) => {
    sim = await startCloudFoundrySim();
    const added = sim.addAppEvents(appInputs(7));
    const client = connect({ api_version: version });

    const first = await client.fetchPage("app", { limit: 3 });
    expect(first.hasMore).toBe(true);
    expect(first.events.map((e) => e.guid)).toEqual(added.slice(0, 3).map((e) => e.guid));
    expect(first.events[0]?.created_at).toBe(added[0]?.created_at);
    const second = await client.fetchPage("app", { limit: 3, afterGuid: first.events[2]?.guid });
    const third = await client.fetchPage("app", { limit: 3, afterGuid: second.events[2]?.guid });
    expect(third.events.map((e) => e.guid)).toEqual([added[6]?.guid]);
    expect(third.hasMore).toBe(false);

    expect(sim.tokensIssued).toBe(1);
    const listings = sim.requests.filter((r) => r.path.endsWith("_usage_events"));
    expect(listings).toHaveLength(3);
    expect(listings.every((r) => r.authorized && r.status === 200)).toBe(true);
    expect(listings[1]?.query.after_guid).toBe(first.events[2]?.guid);
    expect(sim.requests.filter((r) => r.target === "api" && r.path === "/")).toHaveLength(1);
  });

  it("keeps the v3 resource minus links, or the v2 entity, as the event's entity", async () => {
    sim = await startCloudFoundrySim();
    sim.addServiceEvents([
      {
        state: "CREATED",
        org_guid: "org-1",
        space_guid: "space-1",
        space_name: "prod",
        service_instance_guid: "si-1",
        service_instance_name: "db",
        service_plan_guid: "plan-1",
        created_at: "2024-03-01T00:00:00Z",
      },
    ]);
    const [v3] = (await connect().fetchPage("service", { limit: 10 })).events;
    expect(v3?.entity).toMatchObject({ guid: v3?.guid, state: "CREATED", service_plan: { guid: "plan-1" } });
    expect(v3?.entity).not.toHaveProperty("links");
    const [v2] = (await connect({ api_version: "v2" }).fetchPage("service", { limit: 10 })).events;
    expect(v2?.guid).toBe(v3?.guid);
    expect(v2?.entity).toMatchObject({ state: "CREATED", service_instance_guid: "si-1", service_plan_guid: "plan-1" });
    expect(v2?.entity).not.toHaveProperty("metadata");
  });

  it("renews the token shortly before it expires, and after expiry", async () => {
    let now = T0;
    sim = await startCloudFoundrySim({ now: () => now, tokenTtlSeconds: 600 });
    sim.addAppEvents(appInputs(1));
    const client = connect({ now: () => now });

    await client.fetchPage("app", { limit: 1 });
    now += 530_000;
    await client.fetchPage("app", { limit: 1 });
    expect(sim.tokensIssued).toBe(1);
    now += 15_000;
    await client.fetchPage("app", { limit: 1 });
    expect(sim.tokensIssued).toBe(2);
    now += 3_600_000;
    await client.fetchPage("app", { limit: 1 });
    expect(sim.tokensIssued).toBe(3);
    expect(client.tokens.tokensObtained).toBe(3);
    expect(sim.requests.filter((r) => r.status === 401)).toHaveLength(0);
  });

  it("keeps using a still-valid token while the UAA is down during early renewal", async () => {
    let now = T0;
    sim = await startCloudFoundrySim({ now: () => now, tokenTtlSeconds: 600 });
    const client = connect({ now: () => now });
    await client.fetchPage("app", { limit: 1 });
    now += 560_000;
    sim.setFailure({ target: "uaa", status: 503, times: Number.POSITIVE_INFINITY });
    await expect(client.fetchPage("app", { limit: 1 })).resolves.toMatchObject({ events: [] });
    now += 60_000;
    const expired = await client.fetchPage("app", { limit: 1 }).catch((err: unknown) => err);
    expect(expired).toBeInstanceOf(CfHttpError);
    expect(expired).toMatchObject({ status: 503 });
    expect((expired as Error).message).toContain("/oauth/token");
  });

  it("retries once with a new token when the API refuses a revoked one", async () => {
    sim = await startCloudFoundrySim();
    const client = connect();
    await client.fetchPage("app", { limit: 1 });
    sim.revokeTokens();
    await expect(client.fetchPage("app", { limit: 1 })).resolves.toMatchObject({ hasMore: false });
    expect(sim.tokensIssued).toBe(2);
  });

  it("uses the password grant through the cf client", async () => {
    sim = await startCloudFoundrySim();
    sim.addAppEvents(appInputs(2));
    const client = connect({ auth: SIM_DEFAULTS.user });
    expect((await client.fetchPage("app", { limit: 5 })).events).toHaveLength(2);
    const tokenRequest = sim.requests.find((r) => r.target === "uaa");
    expect(tokenRequest).toMatchObject({ path: "/oauth/token", status: 200 });
  });

  it("reports wrong credentials of either grant as CfAuthError", async () => {
    sim = await startCloudFoundrySim();
    const wrongSecret = connect({ auth: { client_id: SIM_DEFAULTS.client.client_id, client_secret: "wrong" } });
    const err = await wrongSecret.fetchPage("app", { limit: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CfAuthError);
    expect(err).toMatchObject({ kind: "auth", status: 401 });
    expect((err as Error).message).toContain(`client credentials of "${SIM_DEFAULTS.client.client_id}"`);
    expect((err as Error).message).toContain("Bad credentials");

    const wrongPassword = connect({ auth: { username: "admin", password: "wrong" } });
    const userErr = await wrongPassword.fetchPage("app", { limit: 1 }).catch((e: unknown) => e);
    expect(userErr).toBeInstanceOf(CfAuthError);
    expect((userErr as Error).message).toContain('user "admin"');
    expect(sim.requests.filter((r) => r.path.endsWith("_usage_events"))).toHaveLength(0);
  });

  it("turns 5xx into CfHttpError with the status and CF's error", async () => {
    sim = await startCloudFoundrySim();
    const client = connect();
    await client.fetchPage("app", { limit: 1 });
    sim.setFailure({ status: 503 });
    const err = await client.fetchPage("app", { limit: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CfHttpError);
    expect(err).toMatchObject({ status: 503, error: { code: 10015, title: "CF-ServiceUnavailable" } });
    sim.setFailure({ status: 500 });
    await expect(client.fetchPage("app", { limit: 1 })).rejects.toMatchObject({ kind: "http", status: 500 });
  });

  it.each([
    ["v3", 422],
    ["v2", 400],
  ] as const)("raises UnknownAfterGuidError on %s's %i for a purged guid", async (version, status) => {
    sim = await startCloudFoundrySim();
    const [event] = sim.addAppEvents(appInputs(1));
    sim.purgeAndReseed("app");
    const client = connect({ api_version: version });
    const err = await client.fetchPage("app", { limit: 5, afterGuid: event?.guid }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownAfterGuidError);
    expect(err).toMatchObject({ afterGuid: event?.guid, status });
  });

  it("does not mistake a 400 for another parameter for an unknown guid", async () => {
    sim = await startCloudFoundrySim();
    const [event] = sim.addAppEvents(appInputs(1));
    const client = connect({ api_version: "v2" });
    const err = await client.fetchPage("app", { limit: 101, afterGuid: event?.guid }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CfHttpError);
    expect(err).toMatchObject({ status: 400 });
  });

  it("discovers the UAA from /v2/info when / does not advertise it", async () => {
    sim = await startCloudFoundrySim();
    sim.setFailure({ status: 404 });
    const tokens = new UaaTokenSource({ api: sim.url, auth: SIM_DEFAULTS.client });
    clients.push(tokens);
    await expect(tokens.token()).resolves.toEqual(expect.any(String));
    expect(tokens.uaaUrl).toBe(sim.uaaUrl);
    expect(sim.requests.filter((r) => r.target === "api").map((r) => `${r.path} ${r.status}`)).toEqual([
      "/ 404",
      "/v2/info 200",
    ]);
  });

  it("reports unreachable hosts, resets and timeouts as CfTransportError", async () => {
    sim = await startCloudFoundrySim();
    const nowhere = connect({ api: `http://127.0.0.1:${await closedPort()}` });
    const refused = await nowhere.fetchPage("app", { limit: 1 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CfTransportError);
    expect(refused).toMatchObject({ code: "ECONNREFUSED" });

    const client = connect({ timeout_ms: 200 });
    await client.fetchPage("app", { limit: 1 });
    sim.setFailure({ status: "reset" });
    await expect(client.fetchPage("app", { limit: 1 })).rejects.toBeInstanceOf(CfTransportError);
    sim.setFailure({ delayMs: 1000 });
    const slow = await client.fetchPage("app", { limit: 1 }).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(CfTransportError);
    expect(slow).toMatchObject({ code: "ETIMEDOUT" });

    sim.setFailure({ target: "uaa", status: "reset" });
    const uaaDown = connect();
    await expect(uaaDown.fetchPage("app", { limit: 1 })).rejects.toBeInstanceOf(CfTransportError);
  });

  it("refuses a non-http API address and a bad page size", async () => {
    sim = await startCloudFoundrySim();
    expect(() => new CloudFoundryClient({ api: "ftp://cf.example", auth: SIM_DEFAULTS.client })).toThrow(TypeError);
    await expect(connect().fetchPage("app", { limit: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/tokens.js";
import { createContext } from "../../src/app/context.js";
import { PlanError } from "../../src/billing/plans.js";
import { APP_PLAN_GUID } from "../../src/cloudfoundry/intervals.js";
import { syncOnce } from "../../src/cloudfoundry/sync.js";
import type { Settings } from "../../src/config/schema.js";
import { SIM_DEFAULTS, startCloudFoundrySim, type CloudFoundrySim } from "../../src/sim/cloudfoundry.js";
import { createTestEnv, DIALECTS } from "../helpers/env.js";
import { createTestServer, type TestServer } from "../helpers/server.js";

const ORG_A = "a0000000-0000-0000-0000-00000000000a";
const ORG_B = "b0000000-0000-0000-0000-00000000000b";
const SERVICE_PLAN = "5e000000-0000-0000-0000-0000000000aa";

function configure(sim: CloudFoundrySim, version: "v2" | "v3") {
  return (s: Settings) => {
    s.cloudfoundry.foundations = [
      {
        name: "sim",
        api: sim.url,
        ...SIM_DEFAULTS.client,
        skip_tls_verification: false,
        user_agent: "fleetledger-test",
        api_version: version,
        schedule: "1m",
        min_wait_time: "3s",
        fetch_limit: 2,
        record_min_age: "5m",
      },
    ];
    s.billing.vat_rates = [{ code: "Standard", valid_from: "1970-01-01", rate: "0.2" }];
    s.billing.currency_rates = [{ code: "GBP", valid_from: "1970-01-01", rate: "1" }];
    s.billing.pricing_plans = [
      {
        name: "app",
        plan_guid: APP_PLAN_GUID,
        valid_from: "1970-01-01",
        components: [
          {
            name: "compute",
            formula: "ceil($time_in_seconds/3600) * 0.01",
            currency_code: "GBP",
            vat_code: "Standard",
          },
        ],
      },
      {
        name: "db-small",
        plan_guid: SERVICE_PLAN,
        valid_from: "1970-01-01",
        number_of_nodes: 1,
        components: [
          {
            name: "instance",
            formula: "ceil($time_in_seconds/3600) * 0.1",
            currency_code: "GBP",
            vat_code: "Standard",
          },
        ],
      },
    ];
  };
}

const app = (org: string, state: "STARTED" | "STOPPED", at: string, instances = 1, guid = "app-1") => ({
  state,
  app_guid: guid,
  app_name: `name-${guid}`,
  space_guid: `space-${org.slice(0, 1)}`,
  space_name: "prod",
  org_guid: org,
  instance_count: instances,
  memory_in_mb_per_instance: 64,
  created_at: at,
});

describe.each(DIALECTS)("Cloud Foundry billing over HTTP on %s", (dialect) => {
  let sim: CloudFoundrySim;
  let server: TestServer;
  afterEach(async () => {
    await server?.cleanup();
    await sim?.stop();
  });

  for (const version of ["v3", "v2"] as const) {
    it(`collects from the simulator (${version}) and serves paas-billing's API and monthly bills`, async () => {
      sim = await startCloudFoundrySim();
      // Public case 1 and 2: one instance for an hour; then 1 instance, 2 instances, stopped.
      // CF records events as they happen, so they arrive in created_at order.
      sim.addAppEvents([
        app(ORG_A, "STARTED", "2001-01-01T00:00:00Z"),
        app(ORG_B, "STARTED", "2001-01-01T00:00:00Z", 1, "app-2"),
        app(ORG_A, "STOPPED", "2001-01-01T01:00:00Z"),
        app(ORG_B, "STARTED", "2001-01-01T01:00:00Z", 2, "app-2"),
        app(ORG_B, "STOPPED", "2001-01-01T02:00:00Z", 2, "app-2"),
      ]);
      sim.addServiceEvents([
        {
          state: "CREATED",
          org_guid: ORG_A,
          space_guid: "space-a",
          space_name: "prod",
          service_instance_guid: "db-1",
          service_instance_name: "db",
          service_plan_guid: SERVICE_PLAN,
          service_plan_name: "small",
          created_at: "2001-01-02T00:00:00Z",
        },
        {
          state: "DELETED",
          org_guid: ORG_A,
          space_guid: "space-a",
          space_name: "prod",
          service_instance_guid: "db-1",
          service_instance_name: "db",
          service_plan_guid: SERVICE_PLAN,
          service_plan_name: "small",
          created_at: "2001-01-02T03:00:00Z",
        },
      ]);
      server = await createTestServer(dialect, configure(sim, version));
      const outcomes = await syncOnce(server.ctx);
      expect(outcomes).toEqual([
        { source: "sim", kind: "app", stored: 5, fetched: 5, skipped_bad: 0, gap: false },
        { source: "sim", kind: "service", stored: 2, fetched: 2, skipped_bad: 0, gap: false },
      ]);
      expect(await syncOnce(server.ctx)).toEqual([
        { source: "sim", kind: "app", stored: 0, fetched: 0, skipped_bad: 0, gap: false },
        { source: "sim", kind: "service", stored: 0, fetched: 0, skipped_bad: 0, gap: false },
      ]);

      const db = server.ctx.database.db;
      const admin = `Bearer ${await createToken(db, "ops", "admin")}`;
      const orgB = `Bearer ${await createToken(db, "b", "viewer", new Date(), [ORG_B])}`;
      const get = async (url: string, auth = admin) =>
        server.app.inject({ method: "GET", url, headers: { authorization: auth } });
      const range = "range_start=2001-01-01&range_stop=2001-02-01";

      const usage = (await get(`/usage_events?${range}&org_guid=${ORG_B}`)).json();
      expect(
        usage.map((u: { event_start: string; event_stop: string; number_of_nodes: number }) => [
          u.event_start,
          u.event_stop,
          u.number_of_nodes,
        ]),
      ).toEqual([
        ["2001-01-01T00:00:00.000Z", "2001-01-01T01:00:00.000Z", 1],
        ["2001-01-01T01:00:00.000Z", "2001-01-01T02:00:00.000Z", 2],
      ]);

      const billable = (await get(`/billable_events?${range}&org_guid=${ORG_A}&org_guid=${ORG_B}`)).json();
      expect(
        billable
          .filter((e: { resource_type: string }) => e.resource_type === "app")
          .map((e: { price: { ex_vat: string; inc_vat: string } }) => [e.price.ex_vat, e.price.inc_vat]),
      ).toEqual([
        ["0.01", "0.012"],
        ["0.01", "0.012"],
        ["0.01", "0.012"],
      ]);
      const service = billable.find((e: { resource_type: string }) => e.resource_type === "service");
      expect(service).toMatchObject({
        plan_guid: SERVICE_PLAN,
        number_of_nodes: 1,
        price: { ex_vat: "0.3", inc_vat: "0.36" },
      });

      expect((await get(`/billable_events?range_start=2001-01&range_stop=2001-02-01`)).statusCode).toBe(400);
      expect((await get(`/billable_events?range_start=2001-02-01&range_stop=2001-01-01`)).json()).toMatchObject({
        error: "invalid_request",
      });
      expect((await get(`/totals?${range}`)).json()).toEqual([
        { org_guid: ORG_A, org_name: expect.any(String), ex_vat: "0.31", inc_vat: "0.372" },
        { org_guid: ORG_B, org_name: expect.any(String), ex_vat: "0.02", inc_vat: "0.024" },
      ]);
      expect(
        (await get(`/pricing_plans?${range}`))
          .json()
          .map((p: { name: string }) => p.name)
          .sort(),
      ).toEqual(["app", "db-small"]);
      expect((await get(`/vat_rates?${range}`)).json()).toEqual([
        expect.objectContaining({ code: "Standard", rate: "0.2" }),
      ]);
      expect((await get(`/currency_rates?${range}`)).json()).toEqual([expect.objectContaining({ code: "GBP" })]);
      const forecastEvents = encodeURIComponent(
        JSON.stringify([
          {
            event_start: "2001-01-05T00:00:00Z",
            event_stop: "2001-01-05T10:00:00Z",
            plan_guid: APP_PLAN_GUID,
            number_of_nodes: 1,
            memory_in_mb: 64,
          },
        ]),
      );
      const forecast = (await get(`/forecast_events?${range}&events=${forecastEvents}`)).json();
      expect(forecast[0].price).toMatchObject({ ex_vat: "0.1", inc_vat: "0.12" });

      // An organization-scoped token sees its own organization only, and nothing outside billing.
      expect((await get(`/totals?${range}`, orgB)).json().map((t: { org_guid: string }) => t.org_guid)).toEqual([
        ORG_B,
      ]);
      expect((await get(`/totals?${range}&org_guid=${ORG_A}`, orgB)).statusCode).toBe(403);
      expect((await get("/api/systems", orgB)).statusCode).toBe(403);

      const bill = (await get("/api/bills?month=2001-01")).json();
      expect(bill).toMatchObject({
        month: "2001-01",
        status: "closed",
        currency: "GBP",
        totals: { ex_vat: "0.33", inc_vat: "0.40" },
      });
      const a = bill.orgs.find((o: { org_guid: string }) => o.org_guid === ORG_A);
      expect(a).toMatchObject({ ex_vat: "0.31", inc_vat: "0.37", revision: 1 });
      expect(
        a.spaces[0].lines.map((l: { plan_name: string; resources: number; ex_vat: string }) => [
          l.plan_name,
          l.resources,
          l.ex_vat,
        ]),
      ).toEqual([
        ["app", 1, "0.01"],
        ["db-small", 1, "0.3"],
      ]);

      // A late event for January re-opens the closed month as revision 2.
      sim.addAppEvents([
        app(ORG_A, "STARTED", "2001-01-20T00:00:00Z", 1, "late-app"),
        app(ORG_A, "STOPPED", "2001-01-20T05:00:00Z", 1, "late-app"),
      ]);
      await syncOnce(server.ctx);
      const revised = (await get(`/api/bills?month=2001-01&org=${ORG_A}`)).json();
      expect(revised.orgs).toEqual([
        expect.objectContaining({
          org_guid: ORG_A,
          ex_vat: "0.36",
          revision: 2,
          previous: { revision: 1, ex_vat: "0.31", inc_vat: "0.37" },
        }),
      ]);

      const csv = await get(`/api/bills/export?month=2001-01&format=csv`);
      expect(csv.headers["content-type"]).toContain("text/csv");
      expect(csv.body.split("\r\n")[0]).toBe(
        "Month,Organization,Org GUID,Space,Space GUID,Plan,Plan GUID,Resource type,Resources,Ex VAT,Inc VAT,Currency",
      );
      const xlsx = await get(`/api/bills/export?month=2001-01&format=xlsx`);
      expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe("PK");
      expect((await get("/api/bills?month=2001-13")).statusCode).toBe(400);
    });
  }

  it("skips a malformed event without stalling the marker", async () => {
    sim = await startCloudFoundrySim();
    sim.addAppEvents([
      app(ORG_A, "STARTED", "2001-01-01T00:00:00Z"),
      { ...app(ORG_A, "STOPPED", "2001-01-01T01:00:00Z"), org_guid: "" },
      app(ORG_A, "STOPPED", "2001-01-01T02:00:00Z"),
    ]);
    server = await createTestServer(dialect, configure(sim, "v2"));
    const [appOutcome] = await syncOnce(server.ctx);
    expect(appOutcome).toMatchObject({ fetched: 3, stored: 2, skipped_bad: 1 });
    const warnings = await server.ctx.database.db.selectFrom("cf_warnings").selectAll().execute();
    expect(warnings).toHaveLength(1);
    expect((await server.app.inject("/metrics")).body).toContain(
      'fleetledger_cf_usage_events_total{source="sim",kind="app",result="skipped_bad"} 1',
    );
  });
});

describe("pricing settings", () => {
  it("stop start-up with a message naming the plan and the bad token", async () => {
    const env = await createTestEnv("sqlite");
    try {
      const settings = structuredClone(env.settings);
      settings.billing.vat_rates = [{ code: "Standard", valid_from: "1970-01-01", rate: "0.2" }];
      settings.billing.currency_rates = [{ code: "GBP", valid_from: "1970-01-01", rate: "1" }];
      settings.billing.pricing_plans = [
        {
          name: "app",
          plan_guid: APP_PLAN_GUID,
          valid_from: "2017-01-01",
          components: [{ name: "compute", formula: "1+1;", currency_code: "GBP", vat_code: "Standard" }],
        },
      ];
      const failure = await createContext(settings).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(PlanError);
      expect((failure as Error).message).toMatch(/"app".*compute.*";"/);
    } finally {
      await env.cleanup();
    }
  });
});

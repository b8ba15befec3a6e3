import { afterEach, describe, expect, it } from "vitest";
import { billingDeps, indexEvent, monthlyBill } from "../../src/cloudfoundry/billing.js";
import { APP_PLAN_GUID } from "../../src/cloudfoundry/intervals.js";
import { cfEventStore } from "../../src/cloudfoundry/store.js";
import type { Settings } from "../../src/config/schema.js";
import { createTestEnv, DIALECTS, type TestEnv } from "../helpers/env.js";

const ORGS = 230;

function pricing(s: Settings) {
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
          formula: "$number_of_nodes * $time_in_seconds * ($memory_in_mb / 1024) * 0.01 / 3600",
          currency_code: "GBP",
          vat_code: "Standard",
        },
      ],
    },
  ];
}

/** Every org runs one app from a different hour of October on, and some stop it again later in the month. */
async function seed(env: TestEnv) {
  const events = [];
  for (let i = 0; i < ORGS; i++) {
    const org = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const entity = (state: string, at: string) => ({
      state,
      app_guid: `app-${i}`,
      app_name: `app ${i}`,
      space_guid: `space-${i}`,
      space_name: "prod",
      org_guid: org,
      instance_count: 1 + (i % 3),
      memory_in_mb_per_instance: 128 * (1 + (i % 4)),
      created_at: at,
    });
    const start = new Date(Date.UTC(2026, 9, 1, i % 24, i % 60)).toISOString();
    events.push({ guid: `start-${i}`, created_at: start, entity: entity("STARTED", start) });
    if (i % 5 === 0) {
      const stop = new Date(Date.UTC(2026, 9, 10 + (i % 20), 7)).toISOString();
      events.push({ guid: `stop-${i}`, created_at: stop, entity: entity("STOPPED", stop) });
    }
  }
  await cfEventStore(env.ctx.database.db, indexEvent).store("sim", "app", events, null);
}

describe.each(DIALECTS)("a bill over worker threads on %s", (dialect) => {
  let env: TestEnv;
  afterEach(async () => env?.cleanup());

  it("equals the bill built in one thread, organization by organization", async () => {
    env = await createTestEnv(dialect, pricing);
    await seed(env);
    const parallel = billingDeps(env.ctx);
    expect(parallel.parallel?.threads).toBeGreaterThan(0);
    const threaded = await monthlyBill(
      { ...parallel, parallel: { ...parallel.parallel, threads: 2 } },
      "2026-10",
      undefined,
      new Date("2026-11-05T00:00:00Z"),
    );
    const { parallel: _, ...single } = parallel;
    const inline = await monthlyBill(single, "2026-10", undefined, new Date("2026-11-05T00:00:00Z"));

    expect(threaded.orgs).toHaveLength(ORGS);
    expect(Number(threaded.totals.ex_vat)).toBeGreaterThan(0);
    const strip = (bill: typeof inline) => ({
      ...bill,
      generated_at: "",
      orgs: bill.orgs.map(({ revision, previous, ...o }) => o),
    });
    expect(strip(threaded)).toEqual(strip(inline));
  }, 60_000);

  it("reports a failure in a worker instead of hanging", async () => {
    env = await createTestEnv(dialect, pricing);
    await seed(env);
    const deps = billingDeps(env.ctx);
    // A worker opens the database from the settings; one it cannot open must surface as an error.
    const broken = {
      ...deps.settings,
      database: { ...deps.settings.database, url: "sqlite:/nonexistent-dir/\u0000/x.db" },
    };
    await expect(
      monthlyBill(
        { ...deps, settings: broken, parallel: { threads: 2 } },
        "2026-10",
        undefined,
        new Date("2026-11-05T00:00:00Z"),
      ),
    ).rejects.toThrow();
  }, 60_000);
});

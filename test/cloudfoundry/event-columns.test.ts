import type { Kysely } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { indexEvent, loadTransitions, usageIntervals } from "../../src/cloudfoundry/billing.js";
import { eventColumns, storedEventColumns } from "../../src/cloudfoundry/event-columns.js";
import { normalizeEntity, type UsageEvent } from "../../src/cloudfoundry/events.js";
import { APP_PLAN_GUID, buildIntervals, STAGING_PLAN_GUID } from "../../src/cloudfoundry/intervals.js";
import { cfEventStore } from "../../src/cloudfoundry/store.js";
import { backfillEventColumns } from "../../src/db/migrations/010_cf_event_columns.js";
import { createTestEnv, DIALECTS, type TestEnv } from "../helpers/env.js";

const ORG = "51ba75ef-edc0-47ad-a633-a8f6e8770944";
const SPACE = "276f4886-ac40-492d-a8cd-b2646637ba76";
const PLAN_A = "aaaaaaaa-0000-0000-0000-00000000000a";

const appEntity = (state: string, over: Record<string, unknown> = {}) => ({
  state,
  app_guid: "app-1",
  app_name: "web",
  parent_app_guid: "app-1",
  parent_app_name: "web",
  org_guid: ORG,
  space_guid: SPACE,
  space_name: "prod",
  process_type: "web",
  instance_count: 3,
  memory_in_mb_per_instance: 512,
  ...over,
});
const serviceEntity = (state: string, over: Record<string, unknown> = {}) => ({
  state,
  org_guid: ORG,
  space_guid: SPACE,
  space_name: "prod",
  service_instance_guid: "db-1",
  service_instance_name: "db",
  service_instance_type: "managed_service_instance",
  service_plan_guid: PLAN_A,
  service_plan_name: "small",
  ...over,
});

describe("eventColumns", () => {
  it("keeps what the interval builder reads of starts and stops", () => {
    expect(eventColumns(normalizeEntity("app", appEntity("STARTED")))).toEqual({
      transition: "start",
      resource_type: "app",
      resource_name: "web",
      plan_guid: APP_PLAN_GUID,
      plan_name: "app",
      org_name: null,
      space_guid: SPACE,
      space_name: "prod",
      instance_count: 3,
      memory_in_mb: 512,
    });
    expect(eventColumns(normalizeEntity("app", appEntity("STAGING_STOPPED")))).toMatchObject({
      transition: "stop",
      resource_type: "staging",
      plan_guid: null,
      plan_name: null,
    });
    expect(eventColumns(normalizeEntity("app", appEntity("STAGING_STARTED")))).toMatchObject({
      transition: "start",
      plan_guid: STAGING_PLAN_GUID,
    });
    expect(eventColumns(normalizeEntity("service", serviceEntity("UPDATED")))).toEqual({
      transition: "start",
      resource_type: "service",
      resource_name: "db",
      plan_guid: PLAN_A,
      plan_name: "small",
      org_name: null,
      space_guid: SPACE,
      space_name: "prod",
      instance_count: null,
      memory_in_mb: null,
    });
  });

  it("marks events that bill nothing, and unreadable stored ones, as none", () => {
    expect(eventColumns(normalizeEntity("app", appEntity("BUILDPACK_SET"))).transition).toBe("none");
    const userProvided = serviceEntity("CREATED", { service_instance_type: "user_provided_service_instance" });
    expect(eventColumns(normalizeEntity("service", userProvided)).transition).toBe("none");
    expect(storedEventColumns("app", null, JSON.stringify(appEntity("STARTED", { app_guid: null }))).transition).toBe(
      "none",
    );
    expect(storedEventColumns("app", null, "{not json").transition).toBe("none");
    const raw = JSON.stringify(appEntity("STARTED"));
    const normalized = JSON.stringify(normalizeEntity("app", appEntity("STARTED")));
    expect(storedEventColumns("app", null, raw)).toEqual(storedEventColumns("app", normalized, "{}"));
  });
});

describe.each(DIALECTS)("event columns on %s", (dialect) => {
  let env: TestEnv;
  afterEach(async () => env?.cleanup());

  it("are filled in for events stored before them, and give the intervals their entities give", async () => {
    env = await createTestEnv(dialect);
    const db = env.ctx.database.db;
    const at = (hour: number) => new Date(Date.UTC(2026, 9, 1, hour)).toISOString();
    const apps = [
      { guid: "a1", created_at: at(0), entity: appEntity("STARTED") },
      { guid: "a2", created_at: at(1), entity: appEntity("BUILDPACK_SET") },
      { guid: "a3", created_at: at(2), entity: appEntity("STARTED", { instance_count: 5, app_name: null }) },
      { guid: "a4", created_at: at(3), entity: appEntity("STAGING_STARTED") },
      { guid: "a5", created_at: at(3), entity: appEntity("STAGING_STOPPED") },
      { guid: "a6", created_at: at(5), entity: appEntity("STOPPED") },
    ];
    const services = [
      { guid: "s1", created_at: at(1), entity: serviceEntity("CREATED") },
      { guid: "s2", created_at: at(4), entity: serviceEntity("DELETED") },
    ];
    const store = cfEventStore(db, indexEvent);
    await store.store("sim", "app", apps, null);
    await store.store("sim", "service", services, null);
    const range = { start: "2026-10-01T00:00:00.000Z", stop: "2026-11-01T00:00:00.000Z" };
    const deps = { db, settings: env.settings, plans: env.ctx.plans };
    const stored = await usageIntervals(deps, range, [ORG], range.stop);

    await db
      .updateTable("cf_usage_events")
      .set({ transition: null, resource_type: null, plan_guid: null, instance_count: null, normalized: null })
      .execute();
    expect(await loadTransitions(db, [ORG], range.stop)).toEqual([]);
    await backfillEventColumns(db as unknown as Kysely<unknown>);
    const backfilled = await usageIntervals(deps, range, [ORG], range.stop);

    const rows = await db
      .selectFrom("cf_usage_events")
      .select(["id", "guid", "kind", "created_at", "entity"])
      .execute();
    const events: UsageEvent[] = rows.map((r) => ({
      guid: r.guid,
      kind: r.kind,
      created_at: r.created_at,
      seq: Number(r.id),
      entity: JSON.parse(r.entity) as Record<string, unknown>,
    }));
    const fromEntities = buildIntervals(events, { now: range.stop });
    // The staging stops the instant it starts: no interval.
    expect(fromEntities.map((i) => [i.resource_type, i.start, i.stop, i.number_of_nodes])).toEqual([
      ["app", at(0), at(2), 3],
      ["service", at(1), at(4), null],
      ["app", at(2), at(5), 5],
    ]);
    expect(stored).toEqual(fromEntities);
    expect(backfilled).toEqual(fromEntities);
  });
});

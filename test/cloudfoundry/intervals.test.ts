import { describe, expect, it } from "vitest";
import {
  EventShapeError,
  normalizeEntity,
  resourceTransition,
  type UsageEvent,
} from "../../src/cloudfoundry/events.js";
import {
  APP_PLAN_GUID,
  buildIntervals,
  STAGING_PLAN_GUID,
  TASK_PLAN_GUID,
  type UsageInterval,
} from "../../src/cloudfoundry/intervals.js";

const ORG = "51ba75ef-edc0-47ad-a633-a8f6e8770944";
const SPACE = "276f4886-ac40-492d-a8cd-b2646637ba76";
const APP1 = "c85e98f0-6d1b-4f45-9368-ea58263165a0";
const SERVICE1 = "efadb775-58c4-4e17-8087-6d0f4febc489";
const PLAN_A = "aaaaaaaa-0000-0000-0000-00000000000a";
const PLAN_B = "bbbbbbbb-0000-0000-0000-00000000000b";
const NOW = "2001-02-01T00:00:00.000Z";

let seq = 0;
const event = (kind: UsageEvent["kind"], created_at: string, entity: Record<string, unknown>): UsageEvent => {
  seq++;
  return { guid: `event-${seq}`, kind, created_at, seq, entity };
};
const app = (created_at: string, state: string, over: Record<string, unknown> = {}) =>
  event("app", created_at, {
    state,
    app_guid: APP1,
    app_name: "APP1",
    org_guid: ORG,
    space_guid: SPACE,
    space_name: "ORG1-SPACE1",
    process_type: "web",
    instance_count: 1,
    memory_in_mb_per_instance: 1024,
    ...over,
  });
const service = (created_at: string, state: string, over: Record<string, unknown> = {}) =>
  event("service", created_at, {
    state,
    org_guid: ORG,
    space_guid: SPACE,
    space_name: "ORG1-SPACE1",
    service_instance_guid: SERVICE1,
    service_instance_name: "DB1",
    service_instance_type: "managed_service_instance",
    service_plan_guid: PLAN_A,
    service_plan_name: "small",
    service_guid: "9d071c77-0000-0000-0000-000000000001",
    service_label: "postgres",
    ...over,
  });
const spans = (intervals: UsageInterval[]) =>
  intervals.map((i) => [i.resource_type, i.start.slice(11, 16), i.stop.slice(11, 16), i.number_of_nodes]);

describe("buildIntervals", () => {
  it("public case 1: STARTED → STOPPED is one interval", () => {
    const start = app("2001-01-01T00:00Z", "STARTED");
    const intervals = buildIntervals([start, app("2001-01-01T01:00Z", "STOPPED")], { now: NOW });
    expect(intervals).toEqual([
      {
        event_guid: start.guid,
        resource_guid: APP1,
        resource_name: "APP1",
        resource_type: "app",
        org_guid: ORG,
        org_name: ORG,
        space_guid: SPACE,
        space_name: "ORG1-SPACE1",
        plan_guid: APP_PLAN_GUID,
        plan_name: "app",
        number_of_nodes: 1,
        memory_in_mb: 1024,
        storage_in_mb: 0,
        start: "2001-01-01T00:00:00.000Z",
        stop: "2001-01-01T01:00:00.000Z",
      },
    ]);
  });

  it("public case 2: a second STARTED splits the interval, each piece with its own size", () => {
    const events = [
      app("2001-01-01T00:00Z", "STARTED"),
      app("2001-01-01T01:00Z", "STARTED", { instance_count: 2, memory_in_mb_per_instance: 2048 }),
      app("2001-01-01T02:00Z", "STOPPED", { instance_count: 2 }),
    ];
    const intervals = buildIntervals(events, { now: NOW });
    expect(spans(intervals)).toEqual([
      ["app", "00:00", "01:00", 1],
      ["app", "01:00", "02:00", 2],
    ]);
    expect(intervals.map((i) => [i.event_guid, i.memory_in_mb])).toEqual([
      [events[0]?.guid, 1024],
      [events[1]?.guid, 2048],
    ]);
  });

  it("public case 4: CREATED, UPDATED to another plan, DELETED gives one interval per plan", () => {
    const intervals = buildIntervals(
      [
        service("2001-01-01T00:00Z", "CREATED"),
        service("2001-01-01T01:00Z", "UPDATED", { service_plan_guid: PLAN_B, service_plan_name: "large" }),
        service("2001-01-01T02:00Z", "DELETED", { service_plan_guid: PLAN_B }),
      ],
      { now: NOW },
    );
    expect(intervals.map((i) => [i.resource_type, i.plan_guid, i.plan_name, i.start, i.stop])).toEqual([
      ["service", PLAN_A, "small", "2001-01-01T00:00:00.000Z", "2001-01-01T01:00:00.000Z"],
      ["service", PLAN_B, "large", "2001-01-01T01:00:00.000Z", "2001-01-01T02:00:00.000Z"],
    ]);
    // CF gives services no size: pricing takes the plan's.
    expect(intervals[0]).toMatchObject({ resource_name: "DB1", number_of_nodes: null, memory_in_mb: null });
  });

  it("orders by created_at, then arrival, whatever the input order", () => {
    const stop = app("2001-01-01T02:00Z", "STOPPED");
    const scale = app("2001-01-01T01:00Z", "STARTED", { instance_count: 3 });
    const start = app("2001-01-01T00:00Z", "STARTED");
    expect(spans(buildIntervals([stop, scale, start], { now: NOW }))).toEqual([
      ["app", "00:00", "01:00", 1],
      ["app", "01:00", "02:00", 3],
    ]);
    // Same instant: arrival order decides, and the zero-length interval is dropped.
    const a = app("2001-01-01T00:00Z", "STARTED");
    const b = app("2001-01-01T00:00Z", "STOPPED");
    expect(buildIntervals([b, a], { now: NOW })).toEqual([]);
  });

  it("runs the last open interval until now and ignores events after now", () => {
    const events = [app("2001-01-31T00:00Z", "STARTED"), app("2001-02-02T00:00Z", "STOPPED")];
    expect(buildIntervals(events, { now: NOW }).map((i) => i.stop)).toEqual([NOW]);
    expect(buildIntervals(events, { now: "2001-03-01T00:00Z" }).map((i) => i.stop)).toEqual([
      "2001-02-02T00:00:00.000Z",
    ]);
    expect(() => buildIntervals(events, { now: "yesterday" })).toThrow(RangeError);
  });

  it("ignores stops without a start and BUILDPACK_SET", () => {
    const events = [
      app("2001-01-01T00:00Z", "STOPPED"),
      app("2001-01-01T00:10Z", "BUILDPACK_SET", { buildpack_name: "go" }),
      app("2001-01-01T01:00Z", "STARTED"),
      app("2001-01-01T01:30Z", "BUILDPACK_SET"),
      app("2001-01-01T02:00Z", "STOPPED"),
      app("2001-01-01T03:00Z", "STOPPED"),
    ];
    expect(spans(buildIntervals(events, { now: NOW }))).toEqual([["app", "01:00", "02:00", 1]]);
  });

  it("bills tasks on the task plan", () => {
    const task = { task_guid: "task-1", task_name: "migrate", app_guid: "", process_type: null };
    const intervals = buildIntervals(
      [
        app("2001-01-01T00:00Z", "TASK_STARTED", { ...task, memory_in_mb_per_instance: 256 }),
        app("2001-01-01T00:05Z", "TASK_STOPPED", task),
      ],
      { now: NOW },
    );
    expect(intervals).toMatchObject([
      { resource_type: "task", resource_guid: "task-1", resource_name: "migrate", plan_guid: TASK_PLAN_GUID },
    ]);
    expect(intervals[0]).toMatchObject({ plan_name: "task", number_of_nodes: 1, memory_in_mb: 256 });
  });

  it("bills staging on the staging plan with one node, keyed by the parent app", () => {
    const staging = { parent_app_guid: "parent-1", parent_app_name: "APP1", app_guid: "", instance_count: 5 };
    const intervals = buildIntervals(
      [
        app("2001-01-01T00:00Z", "STAGING_STARTED", staging),
        app("2001-01-01T00:01Z", "STAGING_STOPPED", staging),
        // The app's own STARTED belongs to another resource type and does not close the staging.
        app("2001-01-01T00:00:30Z", "STARTED"),
      ],
      { now: NOW },
    );
    const staged = intervals.find((i) => i.resource_type === "staging");
    expect(staged).toMatchObject({
      resource_guid: "parent-1",
      plan_guid: STAGING_PLAN_GUID,
      plan_name: "staging",
      number_of_nodes: 1,
      start: "2001-01-01T00:00:00.000Z",
      stop: "2001-01-01T00:01:00.000Z",
    });
  });

  it("drops a staging start that lost its stop after the bound, and runs one within it until now", () => {
    const staging = { parent_app_guid: "parent-1", parent_app_name: "APP1" };
    const lost = [app("2001-01-01T00:00Z", "STAGING_STARTED", staging)];
    expect(buildIntervals(lost, { now: NOW })).toEqual([]);
    expect(spans(buildIntervals(lost, { now: "2001-01-01T00:30Z" }))).toEqual([["staging", "00:00", "00:30", 1]]);
    expect(buildIntervals(lost, { now: "2001-01-01T00:30Z", stagingTimeoutMs: 60_000 })).toEqual([]);
    // Followed by another start much later: the first lost its stop; the second is in progress.
    const twice = [...lost, app("2001-01-01T05:00Z", "STAGING_STARTED", staging)];
    expect(spans(buildIntervals(twice, { now: "2001-01-01T05:10Z" }))).toEqual([["staging", "05:00", "05:10", 1]]);
    // A long staging that did stop is billed in full.
    const slow = [...lost, app("2001-01-01T02:00Z", "STAGING_STOPPED", staging)];
    expect(spans(buildIntervals(slow, { now: NOW }))).toEqual([["staging", "00:00", "02:00", 1]]);
  });

  it("ignores user-provided service instances", () => {
    const ups = { service_instance_type: "user_provided_service_instance", service_plan_guid: null };
    const events = [service("2001-01-01T00:00Z", "CREATED", ups), service("2001-01-01T01:00Z", "DELETED", ups)];
    expect(buildIntervals(events, { now: NOW })).toEqual([]);
  });

  it("excludes platform test spaces by default and configured patterns when given", () => {
    const events = [
      app("2001-01-01T00:00Z", "STARTED", { space_name: "SMOKE-1" }),
      app("2001-01-01T00:00Z", "STARTED", { app_guid: "a2", space_name: "CATS-x" }),
      app("2001-01-01T00:00Z", "STARTED", { app_guid: "a3", space_name: "sandbox" }),
      app("2001-01-01T00:00Z", "STARTED", { app_guid: "a4", space_name: "prod" }),
    ];
    expect(buildIntervals(events, { now: NOW }).map((i) => i.space_name)).toEqual(["sandbox", "prod"]);
    const custom = buildIntervals(events, { now: NOW, excludedSpaces: ["^sand", /^PROD$/gi] });
    expect(custom.map((i) => i.space_name)).toEqual(["SMOKE-1", "CATS-x"]);
    // A global regex is safe to reuse: its lastIndex does not leak between spaces.
    expect(buildIntervals(events, { now: NOW, excludedSpaces: [/o/g] }).map((i) => i.space_name)).toEqual([
      "SMOKE-1",
      "CATS-x",
    ]);
  });

  it("lets the stop in an excluded space close an interval opened outside it", () => {
    const events = [
      app("2001-01-01T00:00Z", "STARTED", { space_name: "team" }),
      app("2001-01-01T01:00Z", "STOPPED", { space_name: "PERF-renamed" }),
    ];
    expect(spans(buildIntervals(events, { now: NOW }))).toEqual([["app", "00:00", "01:00", 1]]);
  });

  it("keeps the last name a resource was given and names orgs from the lookup", () => {
    const events = [
      service("2001-01-01T00:00Z", "CREATED"),
      service("2001-01-01T01:00Z", "UPDATED", { service_instance_name: null }),
      service("2001-01-01T02:00Z", "DELETED"),
    ];
    const intervals = buildIntervals(events, { now: NOW, orgNames: new Map([[ORG, "ORG1"]]) });
    expect(intervals.map((i) => [i.resource_name, i.org_name])).toEqual([
      ["DB1", "ORG1"],
      ["DB1", "ORG1"],
    ]);
  });

  it("reads v3 app and service usage events", () => {
    const v3App = (created_at: string, state: string, instances: number) =>
      event("app", created_at, {
        guid: "ignored",
        state: { current: state, previous: null },
        app: { guid: "v3-app", name: "web-app" },
        process: { guid: "v3-app", type: "web" },
        space: { guid: SPACE, name: "ORG1-SPACE1" },
        organization: { guid: ORG, name: "ORG1" },
        buildpack: { guid: null, name: null },
        task: { guid: null, name: null },
        memory_in_mb_per_instance: { current: 512, previous: 256 },
        instance_count: { current: instances, previous: 1 },
      });
    const v3Service = (created_at: string, state: string) =>
      event("service", created_at, {
        state,
        space: { guid: SPACE, name: "ORG1-SPACE1" },
        organization: { guid: ORG },
        service_instance: { guid: "v3-db", name: "db", type: "managed_service_instance" },
        service_plan: { guid: PLAN_A, name: "small" },
        service_offering: { guid: "offering", name: "postgres" },
        service_broker: { guid: "broker", name: "broker" },
      });
    const intervals = buildIntervals(
      [
        v3App("2001-01-01T00:00Z", "STARTED", 2),
        v3App("2001-01-01T01:00Z", "STOPPED", 2),
        v3Service("2001-01-01T00:00Z", "CREATED"),
        v3Service("2001-01-01T03:00Z", "DELETED"),
      ],
      { now: NOW },
    );
    expect(
      intervals.map((i) => [i.resource_guid, i.resource_name, i.org_name, i.plan_guid, i.number_of_nodes]),
    ).toEqual([
      ["v3-app", "web-app", "ORG1", APP_PLAN_GUID, 2],
      ["v3-db", "db", ORG, PLAN_A, null],
    ]);
    expect(intervals[0]?.memory_in_mb).toBe(512);
  });

  it("skips malformed events and reports them", () => {
    const reported: string[] = [];
    const events = [
      app("2001-01-01T00:00Z", "STARTED"),
      app("2001-01-01T00:30Z", "STARTED", { instance_count: "two" }),
      app("2001-01-01T00:40Z", "STARTED", { app_guid: null }),
      service("2001-01-01T00:00Z", "CREATED", { service_plan_guid: null }),
      app("not a time", "STARTED"),
      app("2001-01-01T01:00Z", "STOPPED"),
    ];
    const intervals = buildIntervals(events, {
      now: NOW,
      onMalformed: (e, error) => reported.push(`${e.guid}: ${error.message}`),
    });
    expect(spans(intervals)).toEqual([["app", "00:00", "01:00", 1]]);
    expect(reported).toEqual([
      `${events[1]?.guid}: app usage event: "instance_count" must be a whole number ≥ 0`,
      `${events[2]?.guid}: app usage event: "app_guid" must be present for state STARTED`,
      `${events[3]?.guid}: service usage event: "service_plan_guid" must be present for state CREATED`,
      `${events[4]?.guid}: usage event ${events[4]?.guid}: created_at "not a time" is not a timestamp`,
    ]);
    expect(buildIntervals(events, { now: NOW })).toHaveLength(1);
  });
});

describe("normalizeEntity", () => {
  it("reads v2 and v3 app entities into the same shape", () => {
    const v2 = normalizeEntity("app", {
      state: "STARTED",
      app_guid: "process-1",
      app_name: "web",
      parent_app_guid: "app-1",
      parent_app_name: "web",
      process_type: "web",
      space_guid: SPACE,
      space_name: "s",
      org_guid: ORG,
      instance_count: 2,
      memory_in_mb_per_instance: 128,
      buildpack_guid: "bp",
      buildpack_name: "go_buildpack",
    });
    const v3 = normalizeEntity("app", {
      state: { current: "STARTED", previous: "STOPPED" },
      app: { guid: "app-1", name: "web" },
      process: { guid: "process-1", type: "web" },
      space: { guid: SPACE, name: "s" },
      organization: { guid: ORG },
      buildpack: { guid: "bp", name: "go_buildpack" },
      task: { guid: null, name: null },
      memory_in_mb_per_instance: { current: 128, previous: 128 },
      instance_count: { current: 2, previous: 1 },
    });
    expect(v3).toEqual(v2);
    expect(v2).toMatchObject({ kind: "app", app_guid: "process-1", parent_app_guid: "app-1", org_name: null });
  });

  it("reads v2 and v3 service entities into the same shape, also v3's early data wrapper", () => {
    const v2 = normalizeEntity("service", {
      state: "CREATED",
      org_guid: ORG,
      space_guid: SPACE,
      space_name: "s",
      service_instance_guid: "si",
      service_instance_name: "db",
      service_instance_type: "managed_service_instance",
      service_plan_guid: "plan",
      service_plan_name: "small",
      service_guid: "svc",
      service_label: "postgres",
      service_broker_guid: "broker",
      service_broker_name: "b",
    });
    const v3 = {
      state: "CREATED",
      space: { guid: SPACE, name: "s" },
      organization: { guid: ORG },
      service_instance: { guid: "si", name: "db", type: "managed_service_instance" },
      service_plan: { guid: "plan", name: "small" },
      service_offering: { guid: "svc", name: "postgres" },
      service_broker: { guid: "broker", name: "b" },
    };
    expect(normalizeEntity("service", v3)).toEqual(v2);
    expect(normalizeEntity("service", { guid: "e", created_at: "t", data: v3 })).toEqual(v2);
  });

  it.each([
    ["not an object", "app", [1, 2], "app usage event: the entity must be an object"],
    ["no state", "app", { space_guid: SPACE, org_guid: ORG }, 'app usage event: "state" must be present'],
    ["no space", "service", { state: "CREATED", org_guid: ORG }, 'service usage event: "space_guid" must be present'],
    [
      "numeric guid",
      "app",
      { state: "STARTED", app_guid: 7, space_guid: SPACE, org_guid: ORG },
      '"app_guid" must be a string',
    ],
    [
      "negative count",
      "app",
      { state: "STARTED", space_guid: SPACE, org_guid: ORG, instance_count: -1 },
      '"instance_count" must be a whole number ≥ 0',
    ],
    [
      "v3 state that is no object",
      "app",
      { state: { current: 3 }, space: { guid: SPACE }, organization: { guid: ORG } },
      '"state.current" must be a string',
    ],
    [
      "v3 nesting broken",
      "service",
      { state: "CREATED", space: { guid: SPACE }, organization: { guid: ORG }, service_instance: "si" },
      '"service_instance" must be an object',
    ],
  ] as const)("throws EventShapeError for %s", (_, kind, entity, message) => {
    expect(() => normalizeEntity(kind, entity)).toThrow(EventShapeError);
    expect(() => normalizeEntity(kind, entity)).toThrow(message);
  });

  it("tells which resource an event starts or stops", () => {
    const read = (kind: "app" | "service", entity: Record<string, unknown>) =>
      resourceTransition(normalizeEntity(kind, { space_guid: SPACE, org_guid: ORG, ...entity }));
    expect(read("app", { state: "STARTED", app_guid: "a" })).toEqual({
      resource_type: "app",
      resource_guid: "a",
      resource_name: null,
      transition: "start",
      plan_guid: APP_PLAN_GUID,
      plan_name: "app",
    });
    expect(read("app", { state: "TASK_STOPPED", task_guid: "t" })).toMatchObject({
      resource_guid: "t",
      transition: "stop",
    });
    expect(read("app", { state: "BUILDPACK_SET", app_guid: "a" })).toBeNull();
    expect(
      read("service", {
        state: "DELETED",
        service_instance_guid: "s",
        service_instance_type: "managed_service_instance",
      }),
    ).toMatchObject({ resource_type: "service", transition: "stop" });
  });
});

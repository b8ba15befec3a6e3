export type EventKind = "app" | "service";

/** A usage event as stored by the collector: `entity` is CF's raw entity (v2) or resource (v3), untouched. */
export interface UsageEvent {
  guid: string;
  kind: EventKind;
  /** ISO-8601. */
  created_at: string;
  /** Arrival order; breaks ties between events created in the same instant. */
  seq: number;
  entity: Record<string, unknown>;
  /** The entity already read into one shape when it was stored; readers use it instead of the raw entity. */
  normalized?: NormalizedEntity;
}

/** An app usage event in CF v2 field names, whichever API version delivered it. */
export interface NormalizedAppEntity {
  kind: "app";
  state: string;
  /** The process guid (v2 `app_guid`, v3 `process.guid`); for web processes it equals the app guid. */
  app_guid: string | null;
  app_name: string | null;
  parent_app_guid: string | null;
  parent_app_name: string | null;
  process_type: string | null;
  task_guid: string | null;
  task_name: string | null;
  space_guid: string;
  space_name: string | null;
  org_guid: string;
  /** Only v3 may carry it; v2 app events name no org. */
  org_name: string | null;
  instance_count: number | null;
  memory_in_mb_per_instance: number | null;
  buildpack_guid: string | null;
  buildpack_name: string | null;
}

/** A service usage event in CF v2 field names, whichever API version delivered it. */
export interface NormalizedServiceEntity {
  kind: "service";
  state: string;
  service_instance_guid: string | null;
  service_instance_name: string | null;
  service_instance_type: string | null;
  service_plan_guid: string | null;
  service_plan_name: string | null;
  service_guid: string | null;
  service_label: string | null;
  service_broker_guid: string | null;
  service_broker_name: string | null;
  space_guid: string;
  space_name: string | null;
  org_guid: string;
  org_name: string | null;
}

export type NormalizedEntity = NormalizedAppEntity | NormalizedServiceEntity;

/** A usage event whose entity cannot be read; the collector counts and skips these. */
export class EventShapeError extends Error {
  override name = "EventShapeError";
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// The readers below name a few dozen fixed paths; splitting each once spares a million splits per monthly bill.
const SEGMENTS = new Map<string, string[]>();
function segments(path: string): string[] {
  let parts = SEGMENTS.get(path);
  if (!parts) {
    parts = path.split(".");
    SEGMENTS.set(path, parts);
  }
  return parts;
}

/** Reads a field that may be absent; present, it must have the right type. */
class Reader {
  constructor(
    private readonly kind: EventKind,
    private readonly entity: Json,
  ) {}

  private fail(path: string, expected: string): never {
    throw new EventShapeError(`${this.kind} usage event: "${path}" must be ${expected}`);
  }

  private value(path: string): unknown {
    let node: unknown = this.entity;
    for (const key of segments(path)) {
      if (node === null || node === undefined) return undefined;
      if (!isObject(node)) this.fail(path.slice(0, path.lastIndexOf(".")), "an object");
      node = node[key];
    }
    return node;
  }

  string(path: string): string | null {
    const value = this.value(path);
    if (value === null || value === undefined) return null;
    if (typeof value !== "string") this.fail(path, "a string");
    // CF stores an absent guid as "" (v2 shows it for tasks and staging, v3 maps it to null): it identifies nothing.
    return value === "" ? null : value;
  }

  requiredString(path: string): string {
    return this.string(path) ?? this.fail(path, "present");
  }

  count(path: string): number | null {
    const value = this.value(path);
    if (value === null || value === undefined) return null;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) this.fail(path, "a whole number ≥ 0");
    return value;
  }
}

/**
 * Reads a v2 entity or a v3 resource into one shape. v3 is recognised by its nested objects (`state: {current}`,
 * `space: {guid}`, `service_instance: {…}`); early v3 releases wrapped the fields in `data`, which is unwrapped.
 */
export function normalizeEntity(kind: EventKind, entity: unknown): NormalizedEntity {
  if (!isObject(entity)) throw new EventShapeError(`${kind} usage event: the entity must be an object`);
  const body = isObject(entity.data) && entity.state === undefined ? entity.data : entity;
  const r = new Reader(kind, body);
  const v3 = isObject(body.space) || isObject(body.organization) || isObject(body.state);
  if (kind === "app") return v3 ? appV3(r, body) : appV2(r);
  return v3 ? serviceV3(r) : serviceV2(r);
}

function appV2(r: Reader): NormalizedAppEntity {
  return {
    kind: "app",
    state: r.requiredString("state"),
    app_guid: r.string("app_guid"),
    app_name: r.string("app_name"),
    parent_app_guid: r.string("parent_app_guid"),
    parent_app_name: r.string("parent_app_name"),
    process_type: r.string("process_type"),
    task_guid: r.string("task_guid"),
    task_name: r.string("task_name"),
    space_guid: r.requiredString("space_guid"),
    space_name: r.string("space_name"),
    org_guid: r.requiredString("org_guid"),
    org_name: r.string("org_name"),
    instance_count: r.count("instance_count"),
    memory_in_mb_per_instance: r.count("memory_in_mb_per_instance"),
    buildpack_guid: r.string("buildpack_guid"),
    buildpack_name: r.string("buildpack_name"),
  };
}

function appV3(r: Reader, body: Json): NormalizedAppEntity {
  // v3 names the app the v2 API called the parent app and moves the v2 `app_guid` to `process.guid`.
  const appGuid = r.string("app.guid");
  return {
    kind: "app",
    state: isObject(body.state) ? r.requiredString("state.current") : r.requiredString("state"),
    app_guid: r.string("process.guid") ?? appGuid,
    app_name: r.string("app.name"),
    parent_app_guid: appGuid,
    parent_app_name: r.string("app.name"),
    process_type: r.string("process.type"),
    task_guid: r.string("task.guid"),
    task_name: r.string("task.name"),
    space_guid: r.requiredString("space.guid"),
    space_name: r.string("space.name"),
    org_guid: r.requiredString("organization.guid"),
    org_name: r.string("organization.name"),
    instance_count: isObject(body.instance_count) ? r.count("instance_count.current") : r.count("instance_count"),
    memory_in_mb_per_instance: isObject(body.memory_in_mb_per_instance)
      ? r.count("memory_in_mb_per_instance.current")
      : r.count("memory_in_mb_per_instance"),
    buildpack_guid: r.string("buildpack.guid"),
    buildpack_name: r.string("buildpack.name"),
  };
}

function serviceV2(r: Reader): NormalizedServiceEntity {
  return {
    kind: "service",
    state: r.requiredString("state"),
    service_instance_guid: r.string("service_instance_guid"),
    service_instance_name: r.string("service_instance_name"),
    service_instance_type: r.string("service_instance_type"),
    service_plan_guid: r.string("service_plan_guid"),
    service_plan_name: r.string("service_plan_name"),
    service_guid: r.string("service_guid"),
    service_label: r.string("service_label"),
    service_broker_guid: r.string("service_broker_guid"),
    service_broker_name: r.string("service_broker_name"),
    space_guid: r.requiredString("space_guid"),
    space_name: r.string("space_name"),
    org_guid: r.requiredString("org_guid"),
    org_name: r.string("org_name"),
  };
}

function serviceV3(r: Reader): NormalizedServiceEntity {
  return {
    kind: "service",
    state: r.requiredString("state"),
    service_instance_guid: r.string("service_instance.guid"),
    service_instance_name: r.string("service_instance.name"),
    service_instance_type: r.string("service_instance.type"),
    service_plan_guid: r.string("service_plan.guid"),
    service_plan_name: r.string("service_plan.name"),
    service_guid: r.string("service_offering.guid"),
    service_label: r.string("service_offering.name"),
    service_broker_guid: r.string("service_broker.guid"),
    service_broker_name: r.string("service_broker.name"),
    space_guid: r.requiredString("space.guid"),
    space_name: r.string("space.name"),
    org_guid: r.requiredString("organization.guid"),
    org_name: r.string("organization.name"),
  };
}

export type ResourceType = "app" | "task" | "staging" | "service";

/** paas-billing's fixed plan guids: every app, task and staging is priced by one plan each. */
export const APP_PLAN_GUID = "f4d4b95a-f55e-4593-8d54-3364c25798c4";
export const TASK_PLAN_GUID = "ebfa9453-ef66-450c-8c37-d53dfd931038";
export const STAGING_PLAN_GUID = "9d071c77-7a68-4346-9981-e8dafac95b6f";

interface Resource {
  resource_type: ResourceType;
  resource_guid: string;
  resource_name: string | null;
}

/** What a billable event does to its resource; a start also says which plan prices what follows. */
export type ResourceTransition =
  | (Resource & { transition: "start"; plan_guid: string; plan_name: string })
  | (Resource & { transition: "stop" });

const APP_STATES: Record<string, { type: Exclude<ResourceType, "service">; transition: "start" | "stop" }> = {
  STARTED: { type: "app", transition: "start" },
  STOPPED: { type: "app", transition: "stop" },
  TASK_STARTED: { type: "task", transition: "start" },
  TASK_STOPPED: { type: "task", transition: "stop" },
  STAGING_STARTED: { type: "staging", transition: "start" },
  STAGING_STOPPED: { type: "staging", transition: "stop" },
};

const FIXED_PLANS = {
  app: { plan_guid: APP_PLAN_GUID, plan_name: "app" },
  task: { plan_guid: TASK_PLAN_GUID, plan_name: "task" },
  staging: { plan_guid: STAGING_PLAN_GUID, plan_name: "staging" },
};

// UPDATED counts as a start: consecutive starts split the interval, so a plan change opens a new piece.
const SERVICE_STATES: Record<string, "start" | "stop"> = { CREATED: "start", UPDATED: "start", DELETED: "stop" };

/**
 * The resource a normalized event starts or stops; null for events that bill nothing (BUILDPACK_SET, unknown
 * states, user-provided service instances). The collector can use it to index events by resource.
 */
export function resourceTransition(n: NormalizedEntity): ResourceTransition | null {
  const missing = (field: string): never => {
    throw new EventShapeError(`${n.kind} usage event: "${field}" must be present for state ${n.state}`);
  };
  if (n.kind === "service") {
    const transition = SERVICE_STATES[n.state];
    if (!transition || n.service_instance_type !== "managed_service_instance") return null;
    const resource: Resource = {
      resource_type: "service",
      resource_guid: n.service_instance_guid ?? missing("service_instance_guid"),
      resource_name: n.service_instance_name,
    };
    if (transition === "stop") return { ...resource, transition };
    const plan_guid = n.service_plan_guid ?? missing("service_plan_guid");
    return { ...resource, transition, plan_guid, plan_name: n.service_plan_name ?? plan_guid };
  }
  const known = APP_STATES[n.state];
  if (!known) return null;
  const resource = appResource(n, known.type, missing);
  return known.transition === "stop"
    ? { ...resource, transition: "stop" }
    : { ...resource, transition: "start", ...FIXED_PLANS[known.type] };
}

function appResource(
  n: NormalizedAppEntity,
  type: Exclude<ResourceType, "service">,
  missing: (field: string) => never,
): Resource {
  switch (type) {
    case "task":
      return { resource_type: type, resource_guid: n.task_guid ?? missing("task_guid"), resource_name: n.task_name };
    case "staging":
      // Staging belongs to the app as a whole, which v2 calls the parent app.
      return {
        resource_type: type,
        resource_guid: n.parent_app_guid ?? n.app_guid ?? missing("parent_app_guid"),
        resource_name: n.parent_app_name ?? n.app_name,
      };
    case "app":
      return { resource_type: type, resource_guid: n.app_guid ?? missing("app_guid"), resource_name: n.app_name };
  }
}

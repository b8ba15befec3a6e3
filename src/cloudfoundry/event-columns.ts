import {
  EventShapeError,
  type NormalizedEntity,
  normalizeEntity,
  type EventKind,
  type ResourceTransition,
  type ResourceType,
  resourceTransition,
} from "./events.js";

/**
 * What the interval builder reads of a usage event, kept in columns of its own next to the raw entity (migration
 * 010): a bill reads these narrow columns instead of parsing JSON for each of a month's million events.
 * `transition` is "none" for events that bill nothing (BUILDPACK_SET, user-provided services, unknown states) and
 * for entities that cannot be read, which a bill skips alike.
 */
export interface EventColumns {
  transition: "start" | "stop" | "none";
  resource_type: ResourceType | null;
  resource_name: string | null;
  plan_guid: string | null;
  plan_name: string | null;
  org_name: string | null;
  space_guid: string | null;
  space_name: string | null;
  /** Apps only: CF reports no size for services. */
  instance_count: number | null;
  memory_in_mb: number | null;
}

const NONE: EventColumns = {
  transition: "none",
  resource_type: null,
  resource_name: null,
  plan_guid: null,
  plan_name: null,
  org_name: null,
  space_guid: null,
  space_name: null,
  instance_count: null,
  memory_in_mb: null,
};

/** The columns of a normalized entity; throws EventShapeError where a billed state lacks its resource. */
export function eventColumns(
  entity: NormalizedEntity,
  resource: ResourceTransition | null = resourceTransition(entity),
): EventColumns {
  if (!resource) return NONE;
  const app = entity.kind === "app";
  return {
    transition: resource.transition,
    resource_type: resource.resource_type,
    resource_name: resource.resource_name,
    plan_guid: resource.transition === "start" ? resource.plan_guid : null,
    plan_name: resource.transition === "start" ? resource.plan_name : null,
    org_name: entity.org_name,
    space_guid: entity.space_guid,
    space_name: entity.space_name,
    instance_count: app ? entity.instance_count : null,
    memory_in_mb: app ? entity.memory_in_mb_per_instance : null,
  };
}

/** The columns of a stored event from whatever it kept, for events stored before the columns existed. */
export function storedEventColumns(kind: EventKind, normalized: string | null, entity: string): EventColumns {
  try {
    return eventColumns(
      normalized === null ? normalizeEntity(kind, JSON.parse(entity)) : (JSON.parse(normalized) as NormalizedEntity),
    );
  } catch (error) {
    if (error instanceof EventShapeError || error instanceof SyntaxError) return NONE;
    throw error;
  }
}

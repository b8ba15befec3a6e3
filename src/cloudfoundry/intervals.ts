import { iso } from "../lib/time.js";
import { type EventColumns, eventColumns } from "./event-columns.js";
import {
  APP_PLAN_GUID,
  EventShapeError,
  normalizeEntity,
  type ResourceType,
  resourceTransition,
  STAGING_PLAN_GUID,
  TASK_PLAN_GUID,
  type UsageEvent,
} from "./events.js";

export { APP_PLAN_GUID, STAGING_PLAN_GUID, TASK_PLAN_GUID };

/** The platform's own test spaces, which paas-billing never bills. */
export const DEFAULT_EXCLUDED_SPACES: readonly string[] = ["^(SMOKE|ACC|CATS|PERF)-"];
export const DEFAULT_STAGING_TIMEOUT_MS = 3_600_000;

/** A stretch of time during which a resource ran with one size and plan; `[start, stop)`. */
export interface UsageInterval {
  /** The event that opened the interval. */
  event_guid: string;
  resource_guid: string;
  resource_name: string;
  resource_type: ResourceType;
  org_guid: string;
  org_name: string;
  space_guid: string;
  space_name: string;
  plan_guid: string;
  plan_name: string;
  /**
   * Null for services: CF reports no size for them, so pricing takes the pricing plan's values (paas-billing's
   * `coalesce(event, plan)`).
   */
  number_of_nodes: number | null;
  memory_in_mb: number | null;
  storage_in_mb: number | null;
  start: string;
  stop: string;
}

export interface IntervalOptions {
  /** ISO-8601. The end of intervals still open; events created after it are not yet known. */
  now: string;
  /** Regular expressions on the space name; default DEFAULT_EXCLUDED_SPACES. */
  excludedSpaces?: readonly (string | RegExp)[];
  /**
   * A staging start not followed by its STAGING_STOPPED within this many milliseconds lost its stop: it is dropped
   * rather than billed until the next event or forever. Default one hour.
   */
  stagingTimeoutMs?: number;
  /** Org names by guid; usage events seldom carry them, and the org guid stands in when nothing names the org. */
  orgNames?: ReadonlyMap<string, string>;
  /** Told of each event whose entity cannot be read; such events are skipped. */
  onMalformed?: (event: UsageEvent, error: EventShapeError) => void;
}

/**
 * One billed event as the interval builder reads it: a stored event's own columns (see event-columns.ts), or what
 * buildIntervals reads from an event's entity. `at` is created_at in epoch milliseconds.
 */
export interface EventTransition extends EventColumns {
  transition: "start" | "stop";
  resource_type: ResourceType;
  guid: string;
  seq: number;
  at: number;
  org_guid: string;
  resource_guid: string;
  space_guid: string;
}

/**
 * Turns usage events into usage intervals. Per resource (guid and type), in (created_at, seq) order, every start
 * opens an interval that the next event closes: a stop ends it, another start (a scale, restage or plan update)
 * ends it and opens the next piece with its own size and plan. The last open interval runs until `now`.
 *
 * Excluded spaces are matched on the interval's space rather than per event (paas-billing filters events), so the
 * stop of an app whose space was renamed into an excluded pattern still closes the app's last billed interval.
 */
export function buildIntervals(events: readonly UsageEvent[], options: IntervalOptions): UsageInterval[] {
  const transitions: EventTransition[] = [];
  for (const event of events) {
    try {
      const transition = readTransition(event);
      if (transition) transitions.push(transition);
    } catch (error) {
      if (!(error instanceof EventShapeError)) throw error;
      options.onMalformed?.(event, error);
    }
  }
  return intervalsOf(transitions, options);
}

function readTransition(event: UsageEvent): EventTransition | null {
  const entity = event.normalized ?? normalizeEntity(event.kind, event.entity);
  const resource = resourceTransition(entity);
  if (!resource) return null;
  const at = Date.parse(event.created_at);
  if (Number.isNaN(at))
    throw new EventShapeError(`usage event ${event.guid}: created_at "${event.created_at}" is not a timestamp`);
  return {
    ...eventColumns(entity, resource),
    transition: resource.transition,
    resource_type: resource.resource_type,
    guid: event.guid,
    seq: event.seq,
    at,
    org_guid: entity.org_guid,
    resource_guid: resource.resource_guid,
    space_guid: entity.space_guid,
  };
}

/**
 * buildIntervals over events already read into transitions, fastest in (at, seq) order. With `overlapping`, only
 * intervals that overlap `[start, stop)` (epoch milliseconds) are made.
 */
export function intervalsOf(
  transitions: readonly EventTransition[],
  options: IntervalOptions,
  overlapping?: { start: number; stop: number },
): UsageInterval[] {
  const now = Date.parse(options.now);
  if (Number.isNaN(now)) throw new RangeError(`now "${options.now}" is not a timestamp`);
  const excluded = (options.excludedSpaces ?? DEFAULT_EXCLUDED_SPACES).map((p) =>
    typeof p === "string" ? new RegExp(p) : p,
  );
  const stagingTimeout = options.stagingTimeoutMs ?? DEFAULT_STAGING_TIMEOUT_MS;
  const from = overlapping?.start ?? Number.NEGATIVE_INFINITY;
  const until = overlapping?.stop ?? Number.POSITIVE_INFINITY;
  const ordered = inEventOrder(transitions);

  // One event's time is the stop of one interval and the start of the next: each is formatted once.
  const texts = new Map<number, string>();
  const text = (t: number) => {
    let formatted = texts.get(t);
    if (formatted === undefined) {
      formatted = iso(t);
      texts.set(t, formatted);
    }
    return formatted;
  };
  // A resource's next event closes the interval its start opened. Each interval goes into the slot of its start, so
  // the intervals come out in the order of their starts without a sort.
  const slots: (UsageInterval | undefined)[] = new Array(ordered.length);
  const close = (resource: ResourceState, stop: number, stopped: boolean) => {
    const opening = ordered[resource.open] as EventTransition;
    const slot = resource.open;
    resource.open = -1;
    if (stop <= opening.at || stop <= from || opening.at >= until) return;
    const lostStop = opening.resource_type === "staging" && !stopped;
    if (lostStop && stop - opening.at > stagingTimeout) return;
    const spaceName = opening.space_name ?? opening.space_guid;
    // search() ignores a global flag's lastIndex, which test() would carry from one call to the next.
    if (excluded.some((pattern) => spaceName.search(pattern) >= 0)) return;
    slots[slot] = toInterval(opening, resource.openName, spaceName, text(opening.at), text(stop), options.orgNames);
  };
  // By type, then guid: no key string is built per event.
  const resources = new Map<ResourceType, Map<string, ResourceState>>();
  for (let i = 0; i < ordered.length; i++) {
    const current = ordered[i] as EventTransition;
    // Events after `now` are not known yet; the order puts all of them at the end.
    if (current.at > now) break;
    let byGuid = resources.get(current.resource_type);
    if (!byGuid) {
      byGuid = new Map();
      resources.set(current.resource_type, byGuid);
    }
    let resource = byGuid.get(current.resource_guid);
    if (!resource) {
      resource = { open: -1, openName: null, name: null };
      byGuid.set(current.resource_guid, resource);
    }
    if (resource.open >= 0) close(resource, current.at, current.transition === "stop");
    // A later event may omit the name; the resource keeps the last one it was given.
    resource.name = current.resource_name ?? resource.name;
    if (current.transition === "start") {
      resource.open = i;
      resource.openName = resource.name;
    }
  }
  for (const byGuid of resources.values()) {
    for (const resource of byGuid.values()) if (resource.open >= 0) close(resource, now, false);
  }
  const intervals: UsageInterval[] = [];
  for (const interval of slots) if (interval) intervals.push(interval);
  return intervals;
}

interface ResourceState {
  /** Index of the start whose interval is open, or -1. */
  open: number;
  /** The resource's name when that start came. */
  openName: string | null;
  name: string | null;
}

const byEventOrder = (a: EventTransition, b: EventTransition) => a.at - b.at || a.seq - b.seq;

/** The transitions in (at, seq) order; storage usually delivers them so, and then they are only checked. */
function inEventOrder(transitions: readonly EventTransition[]): readonly EventTransition[] {
  for (let i = 1; i < transitions.length; i++) {
    if (byEventOrder(transitions[i - 1] as EventTransition, transitions[i] as EventTransition) > 0) {
      return [...transitions].sort(byEventOrder);
    }
  }
  return transitions;
}

function toInterval(
  opening: EventTransition,
  name: string | null,
  spaceName: string,
  start: string,
  stop: string,
  orgNames: ReadonlyMap<string, string> | undefined,
): UsageInterval {
  const service = opening.resource_type === "service";
  return {
    event_guid: opening.guid,
    resource_guid: opening.resource_guid,
    resource_name: name ?? opening.resource_guid,
    resource_type: opening.resource_type,
    org_guid: opening.org_guid,
    org_name: opening.org_name ?? orgNames?.get(opening.org_guid) ?? opening.org_guid,
    space_guid: opening.space_guid,
    space_name: spaceName,
    // A start always names its plan (event-columns.ts).
    plan_guid: opening.plan_guid as string,
    plan_name: opening.plan_name as string,
    // Services report no size; staging runs in one container whatever the app's instance count.
    number_of_nodes: service ? null : opening.resource_type === "staging" ? 1 : (opening.instance_count ?? 1),
    memory_in_mb: service ? null : (opening.memory_in_mb ?? 0),
    storage_in_mb: service ? null : 0,
    start,
    stop,
  };
}

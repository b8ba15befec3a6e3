import { iso } from "../lib/time.js";
import {
  APP_PLAN_GUID,
  EventShapeError,
  type NormalizedEntity,
  normalizeEntity,
  type ResourceTransition,
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

type StartTransition = Extract<ResourceTransition, { transition: "start" }>;

interface Transition {
  event: UsageEvent;
  at: number;
  entity: NormalizedEntity;
  resource: ResourceTransition;
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
  const now = Date.parse(options.now);
  if (Number.isNaN(now)) throw new RangeError(`now "${options.now}" is not a timestamp`);
  const excluded = (options.excludedSpaces ?? DEFAULT_EXCLUDED_SPACES).map((p) =>
    typeof p === "string" ? new RegExp(p) : p,
  );
  const stagingTimeout = options.stagingTimeoutMs ?? DEFAULT_STAGING_TIMEOUT_MS;

  const groups = new Map<string, Transition[]>();
  for (const event of events) {
    let transition: Transition | null;
    try {
      transition = readTransition(event);
    } catch (error) {
      if (!(error instanceof EventShapeError)) throw error;
      options.onMalformed?.(event, error);
      continue;
    }
    if (!transition || transition.at > now) continue;
    const key = `${transition.resource.resource_type}/${transition.resource.resource_guid}`;
    const group = groups.get(key);
    if (group) group.push(transition);
    else groups.set(key, [transition]);
  }

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
  const opened: { at: number; seq: number; interval: UsageInterval }[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => a.at - b.at || a.event.seq - b.event.seq);
    let name: string | null = null;
    group.forEach((current, i) => {
      const resource = current.resource;
      // A later event may omit the name; the resource keeps the last one it was given.
      name = resource.resource_name ?? name;
      if (resource.transition !== "start") return;
      const next = group[i + 1];
      const stop = next ? next.at : now;
      if (stop <= current.at) return;
      const lostStop = resource.resource_type === "staging" && next?.resource.transition !== "stop";
      if (lostStop && stop - current.at > stagingTimeout) return;
      const interval = toInterval(current, resource, name, text(current.at), text(stop), options.orgNames);
      // search() ignores a global flag's lastIndex, which test() would carry from one call to the next.
      if (excluded.some((pattern) => interval.space_name.search(pattern) >= 0)) return;
      opened.push({ at: current.at, seq: current.event.seq, interval });
    });
  }
  opened.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return opened.map((o) => o.interval);
}

function readTransition(event: UsageEvent): Transition | null {
  const entity = event.normalized ?? normalizeEntity(event.kind, event.entity);
  const resource = resourceTransition(entity);
  if (!resource) return null;
  const at = Date.parse(event.created_at);
  if (Number.isNaN(at))
    throw new EventShapeError(`usage event ${event.guid}: created_at "${event.created_at}" is not a timestamp`);
  return { event, at, entity, resource };
}

function toInterval(
  opening: Transition,
  resource: StartTransition,
  name: string | null,
  start: string,
  stop: string,
  orgNames: ReadonlyMap<string, string> | undefined,
): UsageInterval {
  const { entity } = opening;
  const size =
    entity.kind === "service"
      ? { number_of_nodes: null, memory_in_mb: null, storage_in_mb: null }
      : {
          // Staging runs in one container whatever the app's instance count.
          number_of_nodes: resource.resource_type === "staging" ? 1 : (entity.instance_count ?? 1),
          memory_in_mb: entity.memory_in_mb_per_instance ?? 0,
          storage_in_mb: 0,
        };
  return {
    event_guid: opening.event.guid,
    resource_guid: resource.resource_guid,
    resource_name: name ?? resource.resource_guid,
    resource_type: resource.resource_type,
    org_guid: entity.org_guid,
    org_name: entity.org_name ?? orgNames?.get(entity.org_guid) ?? entity.org_guid,
    space_guid: entity.space_guid,
    space_name: entity.space_name ?? entity.space_guid,
    plan_guid: resource.plan_guid,
    plan_name: resource.plan_name,
    ...size,
    start,
    stop,
  };
}

import type { Settings } from "../../src/config/schema.js";
import { APP_PLAN_GUID, STAGING_PLAN_GUID, TASK_PLAN_GUID } from "../../src/cloudfoundry/intervals.js";
import {
  type AppEventState,
  type CloudFoundrySim,
  cfTime,
  type SimAppEventInput,
  type SimServiceEventInput,
} from "../../src/sim/cloudfoundry.js";
import { Random } from "../lib/random.js";

/** A closed month, so the bill is final (open intervals end at the month's end) and records its revisions. */
export const BENCH_MONTH = "2026-10";
const MONTH_START = Date.UTC(2026, 9, 1);
const MONTH_END = Date.UTC(2026, 10, 1);
/** A USD rate change inside the month cuts every piece that spans it, as a real rate card does. */
const USD_RATE_CHANGE = "2026-10-15";

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Apps are pushed from a week before the month on, so about 40 % of them run across the month boundary. */
const PUSH_FROM = MONTH_START - 7 * DAY;
const PUSH_TO = MONTH_START + 10 * DAY;
const SERVICES_FROM = MONTH_START - 7 * DAY;
const SERVICES_TO = MONTH_START + 20 * DAY;
/** The rate aims at this many times the events asked for by the month's end, so the last one lands in its last day. */
const BUDGET_SPREAD = 1.03;

const SPACES = ["prod", "dev"] as const;
const APPS_PER_SPACE = 5;
const SERVICES_PER_SPACE = 2;
const MEMORY_MB = [128, 256, 512, 1024, 2048];
const BUILDPACKS = ["nodejs_buildpack", "java_buildpack", "python_buildpack", "go_buildpack"];

/** paas-billing-like service plans; the nodes come from the pricing plan because CF reports no size for services. */
const SERVICE_PLANS = [
  { guid: "5e000000-0000-4000-8000-000000000001", label: "postgres", name: "small", nodes: 1, hourly: "0.025" },
  { guid: "5e000000-0000-4000-8000-000000000002", label: "postgres", name: "medium-ha", nodes: 2, hourly: "0.1" },
  { guid: "5e000000-0000-4000-8000-000000000003", label: "redis", name: "tiny", nodes: 1, hourly: "0.018" },
  { guid: "5e000000-0000-4000-8000-000000000004", label: "opensearch", name: "small", nodes: 3, hourly: "0.05" },
] as const;

/**
 * What an app does next, how often, how many events it costs on average and how long it keeps the app from its
 * next action: a task run (start, stop after 10 s to 30 min), a scale (one STARTED), a restage (staging start and
 * stop, half the time a buildpack change, then STARTED) or a stop followed by a start 1 to 48 hours later.
 */
const ACTIONS = [
  { kind: "task", weight: 0.5, events: 2, busyMs: 905_000 },
  { kind: "scale", weight: 0.2, events: 1, busyMs: 0 },
  { kind: "restage", weight: 0.15, events: 3.5, busyMs: 168_000 },
  { kind: "stop", weight: 0.15, events: 2, busyMs: 24.5 * 3_600_000 },
] as const;
type ActionKind = (typeof ACTIONS)[number]["kind"];
const MEAN_ACTION_EVENTS = ACTIONS.reduce((sum, a) => sum + a.weight * a.events, 0);
const MEAN_ACTION_MS = ACTIONS.reduce((sum, a) => sum + a.weight * a.busyMs, 0);
/**
 * Mean events of an app's push (staging start and stop, half the time a buildpack change, start) and of a service
 * instance's month (created, sometimes a plan update or a deletion).
 */
const PUSH_EVENTS = 3.5;
const SERVICE_EVENTS = 1.3;

export interface FoundationOptions {
  events: number;
  orgs: number;
  seed: number;
}

export interface FoundationSize {
  orgs: number;
  spaces: number;
  apps: number;
  service_instances: number;
}

export function foundationSize(orgs: number): FoundationSize {
  const spaces = orgs * SPACES.length;
  return { orgs, spaces, apps: spaces * APPS_PER_SPACE, service_instances: spaces * SERVICES_PER_SPACE };
}

/** Prices every plan the events use: apps, tasks and staging by paas-billing's two components, services hourly. */
export function configurePricing(settings: Settings): void {
  const compute = {
    name: "compute",
    formula: "$number_of_nodes * $time_in_seconds * ($memory_in_mb / 1024) * 0.01 / 3600",
    currency_code: "USD",
    vat_code: "Standard",
  };
  const platform = {
    name: "platform",
    formula: "$number_of_nodes * ceil($time_in_seconds / 3600) * ($memory_in_mb / 1024) * 0.004",
    currency_code: "GBP",
    vat_code: "Standard",
  };
  // A new version of each compute plan starts with the month, so intervals running across its start are cut there.
  const versions = (name: string, plan_guid: string) =>
    ["2025-01-01", `${BENCH_MONTH}-01`].map((valid_from, i) => ({
      name,
      plan_guid,
      valid_from,
      components: [compute, { ...platform, formula: platform.formula.replace("0.004", i === 0 ? "0.004" : "0.005") }],
    }));
  settings.billing.currency = "GBP";
  settings.billing.vat_rates = [
    { code: "Standard", valid_from: "2020-01-01", rate: "0.2" },
    { code: "Zero", valid_from: "2020-01-01", rate: "0" },
  ];
  settings.billing.currency_rates = [
    { code: "GBP", valid_from: "2020-01-01", rate: "1" },
    { code: "USD", valid_from: "2020-01-01", rate: "0.8" },
    { code: "USD", valid_from: USD_RATE_CHANGE, rate: "0.79" },
  ];
  settings.billing.pricing_plans = [
    ...versions("app", APP_PLAN_GUID),
    ...versions("task", TASK_PLAN_GUID),
    ...versions("staging", STAGING_PLAN_GUID),
    ...SERVICE_PLANS.map((plan) => ({
      name: `${plan.label} ${plan.name}`,
      plan_guid: plan.guid,
      valid_from: "2025-01-01",
      number_of_nodes: plan.nodes,
      components: [
        {
          name: "instance",
          formula: `$number_of_nodes * ceil($time_in_seconds / 3600) * ${plan.hourly}`,
          currency_code: plan.label === "opensearch" ? "USD" : "GBP",
          vat_code: plan.label === "opensearch" ? "Zero" : "Standard",
        },
      ],
    })),
  ];
}

type Emitted = { kind: "app"; event: SimAppEventInput } | { kind: "service"; event: SimServiceEventInput };

interface Step {
  at: number;
  /** Breaks ties in `at`, so events of the same second keep the order they were scheduled in. */
  order: number;
  emit: () => Emitted;
}

/** A binary min-heap of steps by (at, order): the next event of the whole foundation is always on top. */
class Agenda {
  private readonly steps: Step[] = [];
  private order = 0;

  add(at: number, emit: () => Emitted): void {
    const steps = this.steps;
    steps.push({ at, order: this.order++, emit });
    let i = steps.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(steps[i] as Step, steps[parent] as Step)) break;
      [steps[i], steps[parent]] = [steps[parent] as Step, steps[i] as Step];
      i = parent;
    }
  }

  take(): Step | undefined {
    const steps = this.steps;
    const top = steps[0];
    const last = steps.pop();
    if (top === undefined || last === undefined || steps.length === 0) return top;
    steps[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < steps.length && before(steps[left] as Step, steps[smallest] as Step)) smallest = left;
      if (right < steps.length && before(steps[right] as Step, steps[smallest] as Step)) smallest = right;
      if (smallest === i) return top;
      [steps[i], steps[smallest]] = [steps[smallest] as Step, steps[i] as Step];
      i = smallest;
    }
  }
}

const before = (a: Step, b: Step) => a.at < b.at || (a.at === b.at && a.order < b.order);

const toSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

function uuid(random: Random): string {
  const hex = random.hex(32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

/**
 * A month of usage of `orgs` organizations, exactly `events` events, oldest first (created_at, then the order CF
 * would list them in). One agenda of pending events drives every app and service instance, so events come out in
 * time order without the whole history ever being held: memory stays at one step per resource.
 */
export function* foundationEvents(options: FoundationOptions): Generator<Emitted> {
  const random = new Random(options.seed);
  const size = foundationSize(options.orgs);
  const agenda = new Agenda();
  const between = (min: number, max: number) => random.int(min, max);
  /** Events scheduled or emitted: nothing new starts once the next action could overshoot `events`. */
  let committed = 0;

  const appBudget = options.events * BUDGET_SPREAD - size.apps * PUSH_EVENTS - size.service_instances * SERVICE_EVENTS;
  const activeMs = MONTH_END - (PUSH_FROM + PUSH_TO) / 2;
  const actionsPerApp = Math.max(1, appBudget / size.apps / MEAN_ACTION_EVENTS);
  const meanGapMs = Math.max(HOUR, activeMs / actionsPerApp - MEAN_ACTION_MS);
  const gap = () => Math.max(1000, toSecond(-Math.log(1 - random.next()) * meanGapMs));

  for (let o = 0; o < options.orgs; o++) {
    const org_guid = uuid(random);
    for (const spaceName of SPACES) {
      const space = { org_guid, space_guid: uuid(random), space_name: spaceName };
      for (let a = 0; a < APPS_PER_SPACE; a++) {
        // Scaling changes memory and instances; later events report the new size.
        const app = {
          app_guid: uuid(random),
          app_name: `app-${o + 1}-${spaceName}-${a + 1}`,
          buildpack_name: random.pick(BUILDPACKS),
          memory: random.pick(MEMORY_MB),
          instances: between(1, 4),
        };
        const appEvent = (state: AppEventState, extra: Partial<SimAppEventInput> = {}): (() => Emitted) => {
          return () => ({
            kind: "app",
            event: {
              ...space,
              guid: uuid(random),
              state,
              app_guid: app.app_guid,
              app_name: app.app_name,
              buildpack_name: app.buildpack_name,
              instance_count: app.instances,
              memory_in_mb_per_instance: app.memory,
              ...extra,
            },
          });
        };

        /** Schedules one action's events back to back from `at`, then the app's next action. */
        const schedule = (at: number, steps: { delayMs: number; emit: () => Emitted }[]) => {
          committed += steps.length;
          let t = at;
          steps.forEach((step, i) => {
            t += step.delayMs;
            const stepAt = t;
            const last = i === steps.length - 1;
            agenda.add(stepAt, () => {
              if (last) next(stepAt);
              return step.emit();
            });
          });
        };
        const staging = (previous: AppEventState): { delayMs: number; emit: () => Emitted }[] => {
          const steps = [
            { delayMs: 0, emit: appEvent("STAGING_STARTED", { instance_count: 1 }) },
            { delayMs: between(30, 240) * 1000, emit: appEvent("STAGING_STOPPED", { instance_count: 1 }) },
          ];
          if (random.next() < 0.5) {
            steps.push({ delayMs: 1000, emit: appEvent("BUILDPACK_SET") });
          }
          steps.push({ delayMs: between(5, 60) * 1000, emit: appEvent("STARTED", { previous_state: previous }) });
          return steps;
        };
        const next = (after: number) => {
          const remaining = options.events - committed;
          if (remaining <= 0) return;
          let kind = pickAction(random);
          // A restage can take four events; the last few of the budget go to one-event scales.
          if (remaining < 4) kind = "scale";
          const at = after + gap();
          switch (kind) {
            case "task": {
              const task = { task_guid: uuid(random), task_name: `task-${between(1, 999)}`, instance_count: 1 };
              const memory = { memory_in_mb_per_instance: random.pick(MEMORY_MB) };
              schedule(at, [
                { delayMs: 0, emit: appEvent("TASK_STARTED", { ...task, ...memory }) },
                {
                  delayMs: between(10, 1800) * 1000,
                  emit: appEvent("TASK_STOPPED", { ...task, ...memory, previous_state: "TASK_STARTED" }),
                },
              ]);
              return;
            }
            case "scale": {
              schedule(at, [
                {
                  delayMs: 0,
                  emit: () => {
                    const previous = {
                      previous_instance_count: app.instances,
                      previous_memory_in_mb_per_instance: app.memory,
                    };
                    app.instances = between(1, 6);
                    if (random.next() < 0.3) app.memory = random.pick(MEMORY_MB);
                    return appEvent("STARTED", { previous_state: "STARTED", ...previous })();
                  },
                },
              ]);
              return;
            }
            case "restage":
              schedule(at, staging("STARTED"));
              return;
            case "stop":
              schedule(at, [
                { delayMs: 0, emit: appEvent("STOPPED", { previous_state: "STARTED" }) },
                {
                  delayMs: between(1, 48) * HOUR,
                  emit: appEvent("STARTED", { previous_state: "STOPPED" }),
                },
              ]);
              return;
          }
        };
        schedule(toSecond(between(PUSH_FROM, PUSH_TO)), staging("STOPPED"));
      }
      for (let i = 0; i < SERVICES_PER_SPACE; i++) {
        let plan = random.pick(SERVICE_PLANS);
        const instance = {
          ...space,
          service_instance_guid: uuid(random),
          service_instance_name: `${plan.label}-${o + 1}-${spaceName}-${i + 1}`,
          service_instance_type: "managed_service_instance" as const,
          service_broker_name: `${plan.label}-broker`,
        };
        const serviceEvent = (state: "CREATED" | "UPDATED" | "DELETED") => (): Emitted => ({
          kind: "service",
          event: {
            ...instance,
            guid: uuid(random),
            state,
            service_plan_guid: plan.guid,
            service_plan_name: plan.name,
            service_label: plan.label,
          },
        });
        let t = toSecond(between(SERVICES_FROM, SERVICES_TO));
        agenda.add(t, serviceEvent("CREATED"));
        committed++;
        const others = SERVICE_PLANS.filter((p) => p.label === plan.label && p !== plan);
        t += between(1, 240) * HOUR;
        if (others.length > 0 && random.next() < 0.4 && t < MONTH_END) {
          agenda.add(t, () => {
            plan = random.pick(others);
            return serviceEvent("UPDATED")();
          });
          committed++;
        }
        t += between(1, 240) * HOUR;
        if (random.next() < 0.15 && t < MONTH_END) {
          agenda.add(t, serviceEvent("DELETED"));
          committed++;
        }
      }
    }
  }
  if (committed > options.events) {
    throw new RangeError(
      `${options.orgs} orgs push ${committed} events before doing anything: give at least that many --events`,
    );
  }

  for (let emitted = 0; emitted < options.events; emitted++) {
    const step = agenda.take();
    if (!step) return;
    const out = step.emit();
    out.event.created_at = cfTime(step.at);
    yield out;
  }
}

function pickAction(random: Random): ActionKind {
  let roll = random.next();
  for (const action of ACTIONS) {
    roll -= action.weight;
    if (roll < 0) return action.kind;
  }
  return "scale";
}

export interface Loaded {
  app_events: number;
  service_events: number;
  first_event: string;
  last_event: string;
  /** When events were created relative to the billed month. */
  before_month: number;
  in_month: number;
  after_month: number;
  seconds: number;
}

/**
 * Feeds the events into the simulator in chunks, so only the simulator's own copy of the history is kept. Each
 * kind's chunk goes in whole, which keeps each kind's listing in time order as CF's is.
 */
export function loadFoundation(sim: CloudFoundrySim, options: FoundationOptions, chunk = 10_000): Loaded {
  const started = performance.now();
  const apps: SimAppEventInput[] = [];
  const services: SimServiceEventInput[] = [];
  const loaded: Loaded = {
    app_events: 0,
    service_events: 0,
    first_event: "",
    last_event: "",
    before_month: 0,
    in_month: 0,
    after_month: 0,
    seconds: 0,
  };
  const [monthStart, monthEnd] = [cfTime(MONTH_START), cfTime(MONTH_END)];
  const flush = () => {
    sim.addAppEvents(apps.splice(0));
    sim.addServiceEvents(services.splice(0));
  };
  for (const out of foundationEvents(options)) {
    const createdAt = out.event.created_at as string;
    if (loaded.first_event === "") loaded.first_event = createdAt;
    loaded.last_event = createdAt;
    if (createdAt < monthStart) loaded.before_month++;
    else if (createdAt < monthEnd) loaded.in_month++;
    else loaded.after_month++;
    if (out.kind === "app") {
      apps.push(out.event);
      loaded.app_events++;
    } else {
      services.push(out.event);
      loaded.service_events++;
    }
    if (apps.length + services.length >= chunk) flush();
  }
  flush();
  loaded.seconds = (performance.now() - started) / 1000;
  return loaded;
}

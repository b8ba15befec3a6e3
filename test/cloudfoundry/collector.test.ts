import { afterEach, describe, expect, it } from "vitest";
import {
  CfHttpError,
  CloudFoundryClient,
  type UsageEvent,
  type UsageEventKind,
} from "../../src/cloudfoundry/client.js";
import {
  type CollectResult,
  collectOnce,
  type EventMarker,
  type EventSink,
  runCollector,
} from "../../src/cloudfoundry/collector.js";
import {
  type CloudFoundrySim,
  cfTime,
  SIM_DEFAULTS,
  type SimAppEventInput,
  startCloudFoundrySim,
} from "../../src/sim/cloudfoundry.js";

const T0 = Date.parse("2024-03-01T00:00:00Z");
const MINUTE = 60_000;

interface Row extends UsageEvent {
  source: string;
  kind: UsageEventKind;
  arrival: number;
}

/** The collector's port in memory, with the contract of the real store: insert-or-ignore and marker together. */
class MemorySink implements EventSink {
  readonly rows = new Map<string, Row>();
  readonly markers = new Map<string, EventMarker>();
  readonly warnings: { source: string; kind: string; message: string }[] = [];
  storeCalls = 0;
  private arrivals = 0;

  async store(source: string, kind: UsageEventKind, events: UsageEvent[], marker: EventMarker | null) {
    this.storeCalls++;
    let inserted = 0;
    for (const event of events) {
      const key = `${source}/${kind}/${event.guid}`;
      if (this.rows.has(key)) continue;
      this.rows.set(key, { ...event, source, kind, arrival: ++this.arrivals });
      inserted++;
    }
    if (marker) this.markers.set(`${source}/${kind}`, marker);
    return inserted;
  }

  async marker(source: string, kind: UsageEventKind) {
    return this.markers.get(`${source}/${kind}`) ?? null;
  }

  async warn(source: string, kind: string, message: string) {
    this.warnings.push({ source, kind, message });
  }

  guids(source = "cf1", kind: UsageEventKind = "app"): string[] {
    return [...this.rows.values()]
      .filter((r) => r.source === source && r.kind === kind)
      .sort((a, b) => a.arrival - b.arrival)
      .map((r) => r.guid);
  }
}

/** One event a second from T0 + `from` seconds. */
function appInputs(count: number, from = 0): SimAppEventInput[] {
  return Array.from({ length: count }, (_, i) => ({
    state: i % 5 === 4 ? "STOPPED" : "STARTED",
    app_guid: `app-${(from + i) % 9}`,
    app_name: `app-${(from + i) % 9}`,
    space_guid: "space-1",
    space_name: "prod",
    org_guid: "org-1",
    instance_count: 1 + (i % 3),
    memory_in_mb_per_instance: 256,
    created_at: cfTime(T0 + (from + i) * 1000),
  }));
}

const LATER = new Date(T0 + 30 * 24 * 60 * MINUTE);

describe("Cloud Foundry usage-event collector against the simulator", () => {
  let sim: CloudFoundrySim;
  let client: CloudFoundryClient;
  afterEach(async () => {
    await client?.close();
    await sim?.stop();
  });

  // The simulator's clock, for the created_at of reseeded events: after the test events, before LATER.
  const setup = async (apiVersion: "v3" | "v2" = "v3") => {
    sim = await startCloudFoundrySim({ now: () => T0 + 300_000 });
    client = new CloudFoundryClient({ api: sim.url, auth: SIM_DEFAULTS.client, api_version: apiVersion });
    return new MemorySink();
  };

  it.each([
    ["v3", 50, 5],
    ["v3", 100, 3],
    ["v2", 50, 5],
    ["v2", 100, 3],
  ] as const)("collects 250 events over %s in pages of %i", async (version, fetchLimit, pages) => {
    const sink = await setup(version);
    const added = sim.addAppEvents(appInputs(250));
    const result = await collectOnce(client, sink, { source: "cf1", kind: "app", fetchLimit, now: LATER });
    expect(result).toEqual({ fetched: 250, stored: 250, skippedBad: 0, pages, fullPage: false, gap: false });
    expect(sink.guids()).toEqual(added.map((e) => e.guid));
    expect(await sink.marker("cf1", "app")).toEqual({ guid: added[249]?.guid, created_at: added[249]?.created_at });
    expect(sim.requests.filter((r) => r.path.endsWith("_usage_events"))).toHaveLength(pages);

    const again = await collectOnce(client, sink, { source: "cf1", kind: "app", fetchLimit, now: LATER });
    expect(again).toEqual({ fetched: 0, stored: 0, skippedBad: 0, pages: 1, fullPage: false, gap: false });
    expect(sim.requests.at(-1)?.query.after_guid).toBe(added[249]?.guid);
  });

  it("stores each page with its marker, and yields after maxPages full pages", async () => {
    const sink = await setup();
    sim.addAppEvents(appInputs(250));
    const first = await collectOnce(client, sink, { source: "cf1", kind: "app", maxPages: 2, now: LATER });
    expect(first).toMatchObject({ fetched: 100, stored: 100, pages: 2, fullPage: true });
    expect(sink.storeCalls).toBe(2);
    const rest = await collectOnce(client, sink, { source: "cf1", kind: "app", maxPages: 2, now: LATER });
    expect(rest).toMatchObject({ fetched: 100, pages: 2, fullPage: true });
    const last = await collectOnce(client, sink, { source: "cf1", kind: "app", maxPages: 2, now: LATER });
    expect(last).toMatchObject({ fetched: 50, pages: 1, fullPage: false });
    expect(sink.rows.size).toBe(250);
  });

  it("keeps events younger than the minimum age for the next cycle, without gaps", async () => {
    const sink = await setup();
    const added = sim.addAppEvents(appInputs(250));
    // Event i is T0 + i s old; at T0 + 245 s + 5 min everything from event 246 on is too young.
    const now = new Date(T0 + 245_000 + 5 * MINUTE);
    const first = await collectOnce(client, sink, { source: "cf1", kind: "app", now });
    expect(first).toMatchObject({ fetched: 246, stored: 246, pages: 5, fullPage: false });
    expect((await sink.marker("cf1", "app"))?.guid).toBe(added[245]?.guid);

    // The cut falls mid-page: the young event and the rest of the page come back whole in the next cycle.
    sim.addAppEvents(appInputs(30, 250));
    const second = await collectOnce(client, sink, {
      source: "cf1",
      kind: "app",
      now: new Date(T0 + 270_000 + 5 * MINUTE),
    });
    expect(second).toMatchObject({ fetched: 25, stored: 25, pages: 1 });
    const third = await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER });
    expect(third).toMatchObject({ fetched: 9, stored: 9 });
    expect(sink.guids()).toEqual(sim.appEvents().map((e) => e.guid));
  });

  it("stores around a bad event, warns, and moves the marker past it", async () => {
    const sink = await setup();
    const added = sim.addAppEvents(appInputs(60));
    const bad = new Set([added[10]?.guid, added[59]?.guid]);
    const validate = (entity: unknown) => {
      if (bad.has((entity as { guid: string }).guid)) throw new Error("memory_in_mb_per_instance is not a number");
    };
    const result = await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER, validate });
    expect(result).toMatchObject({ fetched: 60, stored: 58, skippedBad: 2, pages: 2 });
    expect(sink.guids()).toEqual(added.filter((e) => !bad.has(e.guid)).map((e) => e.guid));
    expect((await sink.marker("cf1", "app"))?.guid).toBe(added[59]?.guid);
    expect(sink.warnings.map((w) => w.message)).toEqual([
      `event ${added[10]?.guid} skipped: memory_in_mb_per_instance is not a number`,
      `event ${added[59]?.guid} skipped: memory_in_mb_per_instance is not a number`,
    ]);

    sim.addAppEvents(appInputs(3, 60));
    const next = await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER, validate });
    expect(next).toMatchObject({ fetched: 3, stored: 3, skippedBad: 0 });
  });

  it.each(["v3", "v2"] as const)(
    "resumes by time with a gap warning after CF purged and reseeded (%s)",
    async (version) => {
      const sink = await setup(version);
      sim.addAppEvents(appInputs(250));
      await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER });
      const marker = await sink.marker("cf1", "app");

      const reseeded = sim.purgeAndReseed("app");
      expect(reseeded.length).toBeGreaterThan(0);
      const fresh = sim.addAppEvents(appInputs(20, 400));
      const result = await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER });
      expect(result).toMatchObject({ gap: true, stored: reseeded.length + 20, fetched: reseeded.length + 20 });
      expect(sink.warnings).toHaveLength(1);
      expect(sink.warnings[0]?.message).toContain(`CF no longer knows the resume marker ${marker?.guid}`);
      expect(sink.rows.size).toBe(250 + reseeded.length + 20);
      expect(await sink.marker("cf1", "app")).toMatchObject({ guid: fresh.at(-1)?.guid });

      const after = await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER });
      expect(after).toMatchObject({ gap: false, fetched: 0 });
      expect(sink.warnings).toHaveLength(1);
    },
  );

  it("skips events older than a lost marker, so pruned rows are not brought back and nothing is stored twice", async () => {
    const sink = await setup();
    const added = sim.addAppEvents(appInputs(250));
    // The foundation was restored from a backup taken at event 199: the marker (event 229) is unknown to CF now,
    // and this install had already pruned its rows of events 0..99.
    for (const event of added.slice(100, 230)) {
      await sink.store("cf1", "app", [{ guid: event.guid, created_at: event.created_at, entity: {} }], null);
    }
    sink.markers.set("cf1/app", { guid: "lost-in-restore", created_at: added[229]?.created_at ?? "" });

    const result = await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER, maxPages: 1 });
    expect(result).toMatchObject({ gap: true, fetched: 250, stored: 20, pages: 5 });
    expect(sink.rows.size).toBe(150);
    expect(sink.guids().slice(-20)).toEqual(added.slice(230).map((e) => e.guid));
    expect(sink.guids()).not.toContain(added[0]?.guid);
  });

  it("is idempotent when CF delivers events again", async () => {
    const sink = await setup();
    sim.addAppEvents(appInputs(120));
    await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER });
    sink.markers.clear();
    const again = await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER });
    expect(again).toMatchObject({ fetched: 120, stored: 0 });
    expect(sink.rows.size).toBe(120);
  });

  it("keeps sources and kinds apart", async () => {
    const sink = await setup();
    sim.addAppEvents(appInputs(5));
    sim.addServiceEvents([
      {
        state: "CREATED",
        org_guid: "org-1",
        space_guid: "space-1",
        space_name: "prod",
        service_instance_guid: "si-1",
        service_instance_name: "db",
        created_at: cfTime(T0),
      },
    ]);
    await collectOnce(client, sink, { source: "cf1", kind: "app", now: LATER });
    await collectOnce(client, sink, { source: "cf1", kind: "service", now: LATER });
    await collectOnce(client, sink, { source: "cf2", kind: "app", now: LATER });
    expect(sink.guids("cf1", "app")).toHaveLength(5);
    expect(sink.guids("cf1", "service")).toHaveLength(1);
    expect(sink.guids("cf2", "app")).toHaveLength(5);
  });

  it("refuses a fetch limit outside 1..100", async () => {
    const sink = await setup();
    await expect(collectOnce(client, sink, { source: "cf1", kind: "app", fetchLimit: 101 })).rejects.toBeInstanceOf(
      RangeError,
    );
  });

  describe("runCollector", () => {
    const schedule = (sink: MemorySink, stopAfter: number, options: { random?: () => number } = {}) => {
      const controller = new AbortController();
      const waits: number[] = [];
      const errors: { error: unknown; failures: number; delay: number }[] = [];
      const cycles: CollectResult[] = [];
      const done = runCollector(client, sink, {
        source: "cf1",
        kinds: ["app"],
        signal: controller.signal,
        now: () => LATER,
        random: options.random ?? (() => 1),
        scheduleMs: 60_000,
        minWaitMs: 3_000,
        backoffBaseMs: 1_000,
        maxPages: 2,
        sleep: async (ms) => {
          waits.push(ms);
          if (waits.length >= stopAfter) controller.abort();
        },
        onCycle: (_kind, result) => cycles.push(result),
        onError: (_kind, error, failures, delay) => errors.push({ error, failures, delay }),
      });
      return { done, waits, errors, cycles };
    };

    it("waits min_wait_time after a full page and the schedule after a partial one", async () => {
      const sink = await setup();
      sim.addAppEvents(appInputs(250));
      const run = schedule(sink, 4);
      await run.done;
      expect(run.waits).toEqual([3_000, 3_000, 60_000, 60_000]);
      expect(run.cycles.map((c) => c.fetched)).toEqual([100, 100, 50, 0]);
      expect(sink.rows.size).toBe(250);
    });

    it("backs off exponentially after 503s up to the schedule, then resumes", async () => {
      const sink = await setup();
      sim.addAppEvents(appInputs(10));
      await client.fetchPage("app", { limit: 1 });
      sim.setFailure({ status: 503, times: 8 });
      const run = schedule(sink, 9);
      await run.done;
      expect(run.waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
      expect(run.errors.map((e) => e.failures)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(run.errors.every((e) => e.error instanceof CfHttpError && e.error.status === 503)).toBe(true);
      expect(sink.rows.size).toBe(10);
    });

    it("jitters the backoff and treats UAA failures alike", async () => {
      const sink = await setup();
      sim.setFailure({ target: "uaa", status: 503, times: 2 });
      const run = schedule(sink, 3, { random: () => 0 });
      await run.done;
      expect(run.waits).toEqual([500, 1_000, 60_000]);
      expect(run.errors.map((e) => (e.error as Error).message)).toEqual([
        expect.stringContaining("/oauth/token answered 503"),
        expect.stringContaining("/oauth/token answered 503"),
      ]);
    });

    it("stops promptly while a request is in flight", async () => {
      const sink = await setup();
      sim.setFailure({ delayMs: 5_000 });
      const controller = new AbortController();
      const done = runCollector(client, sink, { source: "cf1", signal: controller.signal, now: () => LATER });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopping = Date.now();
      controller.abort();
      await done;
      expect(Date.now() - stopping).toBeLessThan(1_000);
    });
  });
});

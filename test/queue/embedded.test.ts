import { afterEach, describe, expect, it } from "vitest";
import pino from "pino";
import { retryDelayMs } from "../../src/queue/backoff.js";
import { EmbeddedQueue } from "../../src/queue/embedded.js";
import { DIALECTS, type TestEnv, createTestEnv } from "../helpers/env.js";

describe("retryDelayMs", () => {
  it("doubles from the base, caps, and jitters within [delay/2, delay]", () => {
    expect(retryDelayMs(1, 1000, 300_000, () => 1)).toBe(1000);
    expect(retryDelayMs(1, 1000, 300_000, () => 0)).toBe(500);
    expect(retryDelayMs(4, 1000, 300_000, () => 1)).toBe(8000);
    expect(retryDelayMs(4, 1000, 300_000, () => 0.5)).toBe(6000);
    expect(retryDelayMs(20, 1000, 300_000, () => 1)).toBe(300_000);
    expect(retryDelayMs(20, 1000, 300_000, () => 0)).toBe(150_000);
  });
});

describe.each(DIALECTS)("embedded queue on %s", (dialect) => {
  let env: TestEnv;
  afterEach(async () => env?.cleanup());

  const setup = async (maxAttempts = 3) => {
    env = await createTestEnv(dialect, (s) => {
      s.queue.max_attempts = maxAttempts;
      s.queue.backoff_base_ms = 1;
      s.queue.backoff_cap_ms = 2;
      s.queue.lease_seconds = 1;
    });
    return env.ctx;
  };

  it("removes a job only after its handler finished", async () => {
    const ctx = await setup();
    const seen: unknown[] = [];
    let jobsDuringHandler = -1;
    ctx.queue.register("t.ok", async (payload) => {
      seen.push(payload);
      jobsDuringHandler = (await ctx.database.db.selectFrom("jobs").selectAll().where("queue", "=", "t.ok").execute())
        .length;
    });
    await ctx.queue.enqueue(ctx.database.db, "t.ok", { n: 1 });
    expect(await ctx.queue.drain()).toBe(1);
    expect(seen).toEqual([{ n: 1 }]);
    expect(jobsDuringHandler).toBe(1);
    expect(await ctx.database.db.selectFrom("jobs").selectAll().execute()).toEqual([]);
  });

  it("retries with backoff, then dead-letters, lists and re-drives", async () => {
    const ctx = await setup(3);
    let calls = 0;
    let failing = true;
    ctx.queue.register("t.fail", async () => {
      calls++;
      if (failing) throw new Error(`boom ${calls}`);
    });
    const id = await ctx.queue.enqueue(ctx.database.db, "t.fail", { x: true });
    for (let i = 0; i < 20 && (await ctx.queue.listDead(10, 0)).length === 0; i++) {
      await ctx.queue.drain();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(calls).toBe(3);
    const dead = await ctx.queue.listDead(10, 0);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ id, queue: "t.fail", payload: { x: true }, attempts: 3, last_error: "boom 3" });
    expect(await ctx.queue.depth()).toContainEqual(expect.objectContaining({ queue: "t.fail", pending: 0, dead: 1 }));

    failing = false;
    expect(await ctx.queue.retryDead(id)).toBe(true);
    expect(await ctx.queue.retryDead(id)).toBe(false);
    await ctx.queue.drain();
    expect(calls).toBe(4);
    expect(await ctx.queue.listDead(10, 0)).toEqual([]);
  });

  it("re-runs a job whose worker died before removing it (lease expiry)", async () => {
    const ctx = await setup();
    await ctx.queue.enqueue(ctx.database.db, "t.lease", { n: 2 });
    // A worker that claimed the job and vanished: the row is locked until its lease runs out.
    await ctx.database.db
      .updateTable("jobs")
      .set({ locked_by: "dead-worker", locked_until: new Date(Date.now() + 300).toISOString() })
      .execute();
    let calls = 0;
    ctx.queue.register("t.lease", async () => {
      calls++;
    });
    expect(await ctx.queue.drain()).toBe(0);
    await new Promise((r) => setTimeout(r, 350));
    expect(await ctx.queue.drain()).toBe(1);
    expect(calls).toBe(1);
  });

  it("renews the lease of a long job so no other worker takes it meanwhile", async () => {
    const ctx = await setup();
    let calls = 0;
    const slow = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 1600));
    };
    ctx.queue.register("t.slow", slow);
    const other = new EmbeddedQueue(
      ctx.database.db,
      ctx.database.dialect,
      { ...(ctx.queue as EmbeddedQueue).options, leaseSeconds: 1 },
      pino({ level: "silent" }),
    );
    other.register("t.slow", slow);
    await ctx.queue.enqueue(ctx.database.db, "t.slow", {});
    const first = ctx.queue.drain();
    await new Promise((r) => setTimeout(r, 1300));
    expect(await other.drain()).toBe(0);
    expect(await first).toBe(1);
    expect(calls).toBe(1);
  });

  it("started workers pick up jobs after notify()", async () => {
    const ctx = await setup();
    const done = new Promise<unknown>((resolve) => ctx.queue.register("t.live", async (p) => resolve(p)));
    ctx.queue.start();
    await ctx.queue.enqueue(ctx.database.db, "t.live", { live: 1 });
    ctx.queue.notify();
    expect(await done).toEqual({ live: 1 });
  });
});

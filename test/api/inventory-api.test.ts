import { afterEach, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/tokens.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import { basic, DIALECTS } from "../helpers/env.js";
import { createTestServer, type TestServer } from "../helpers/server.js";
import type { Settings } from "../../src/config/schema.js";

describe.each(DIALECTS)("inventory HTTP API on %s", (dialect) => {
  let server: TestServer;
  afterEach(async () => server?.cleanup());

  const setup = async (configure?: (s: Settings) => void) => {
    server = await createTestServer(dialect, configure);
    const db = server.ctx.database.db;
    const org = await createOrganization(db, "acme");
    const a = await createSystem(db, "acme", "fw-a");
    const b = await createSystem(db, "acme", "fw-b");
    const admin = `Bearer ${await createToken(db, "ops", "admin")}`;
    const viewer = `Bearer ${await createToken(db, "look", "viewer")}`;
    const push = (sys: { system_key: string; system_secret: string }, payload: unknown, headers = {}) =>
      server.app.inject({
        method: "POST",
        url: "/api/systems/inventory",
        headers: {
          authorization: basic(sys.system_key, sys.system_secret),
          "content-type": "application/json",
          ...headers,
        },
        payload: typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
      });
    const get = (url: string, auth = viewer) =>
      server.app.inject({ method: "GET", url, headers: { authorization: auth } });
    return { db, org, a, b, admin, viewer, push, get };
  };

  const doc = (version: string, extra: Record<string, unknown> = {}) => ({
    system_id: "ignored",
    timestamp: "2026-11-01T10:00:00Z",
    data: { facts: { distro: { name: "rocky", version }, modules: [{ id: "mail1", version: "2.0" }] }, ...extra },
  });

  it("serves the push and admin contract", async () => {
    const { a, admin, push, get } = await setup();
    const first = await push(a, doc("9.3"));
    expect(first.statusCode).toBe(202);
    const firstBody = first.json();
    expect(firstBody).toEqual({ id: expect.any(Number), duplicate: false });
    const dup = await push(a, doc("9.3"));
    expect(dup.json()).toEqual({ id: firstBody.id, duplicate: true });
    const second = await push(a, doc("9.4"));
    expect(second.json().duplicate).toBe(false);
    const hb = await server.app.inject({
      method: "POST",
      url: "/api/systems/heartbeat",
      headers: { authorization: basic(a.system_key, a.system_secret) },
    });
    expect(hb.statusCode).toBe(200);
    await server.ctx.queue.drain();

    const systems = (await get("/api/systems")).json();
    expect(systems).toHaveLength(2);
    const sa = systems.find((s: { id: string }) => s.id === a.id);
    expect(Object.keys(sa).sort()).toEqual(
      ["id", "last_heartbeat_at", "last_inventory_at", "name", "org_id", "status", "system_key"].sort(),
    );
    expect(sa).toMatchObject({ name: "fw-a", status: "active", system_key: a.system_key });
    expect(sa.last_heartbeat_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await get("/api/systems?status=unknown")).json().map((s: { name: string }) => s.name)).toEqual(["fw-b"]);

    const latest = (await get(`/api/systems/${a.id}/inventory/latest`)).json();
    expect(latest).toMatchObject({ id: second.json().id, data: doc("9.4").data });
    expect(latest.data_hash).toMatch(/^[0-9a-f]{64}$/);

    const records = (await get(`/api/systems/${a.id}/inventory/records`)).json();
    expect(records.map((r: { change_count: number }) => r.change_count)).toEqual([1, 0]);
    expect(Object.keys(records[0]).sort()).toEqual(["change_count", "data_hash", "data_size", "id", "received_at"]);

    const diffs = (await get(`/api/systems/${a.id}/inventory/diffs`)).json();
    expect(diffs).toEqual([
      {
        id: expect.any(Number),
        record_id: second.json().id,
        field_path: "facts.distro.version",
        change_type: "update",
        previous_value: "9.3",
        current_value: "9.4",
        category: "os",
        severity: "high",
        significant: true,
        created_at: expect.any(String),
      },
    ]);
    expect((await get(`/api/systems/${a.id}/inventory/diffs?severity=low`)).json()).toEqual([]);
    expect((await get(`/api/systems/${a.id}/inventory/diffs?category=os`)).json()).toHaveLength(1);
    expect((await get(`/api/systems/${a.id}/inventory/diffs?since=2999-01-01T00:00:00Z`)).json()).toEqual([]);
    expect((await get(`/api/systems/${a.id}/inventory/diffs?since=yesterday`)).statusCode).toBe(400);

    const alerts = (await get("/api/alerts?status=firing")).json();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ status: "firing", labels: { alertname: "InventoryChanged", system_id: a.id } });
    expect((await get("/api/alerts?status=resolved")).json()).toEqual([]);
    expect((await get("/api/alerts?status=bogus")).statusCode).toBe(400);
    expect((await get(`/api/systems/${a.id}/inventory/latest`, admin)).statusCode).toBe(200);
  });

  it("authenticates every caller and keeps systems apart", async () => {
    const { a, b, viewer, push, get } = await setup();
    const noAuth = await server.app.inject({ method: "POST", url: "/api/systems/inventory", payload: doc("1") });
    expect(noAuth.statusCode).toBe(401);
    expect(noAuth.json()).toEqual({ error: "unauthorized", message: expect.any(String) });
    expect((await push({ system_key: a.system_key, system_secret: "wrong" }, doc("1"))).statusCode).toBe(401);
    expect((await push({ system_key: "FL-NOPE", system_secret: a.system_secret }, doc("1"))).statusCode).toBe(401);
    expect((await get("/api/systems", "Bearer flt_0000000000000000_bogusbogusbogusbogusbogus")).statusCode).toBe(401);
    expect((await get("/api/systems", "")).statusCode).toBe(401);
    // A system's Basic credentials do not open the admin API.
    expect((await get("/api/systems", basic(a.system_key, a.system_secret))).statusCode).toBe(401);
    // Viewers read, only admins write.
    const create = await server.app.inject({
      method: "POST",
      url: "/api/organizations",
      headers: { authorization: viewer },
      payload: { name: "other" },
    });
    expect(create.statusCode).toBe(403);

    // system_id in the body never redirects a document to another system.
    const res = await push(a, { ...doc("7"), system_id: b.id });
    expect(res.statusCode).toBe(202);
    expect((await get(`/api/systems/${b.id}/inventory/latest`)).statusCode).toBe(404);
    expect((await get(`/api/systems/${a.id}/inventory/latest`)).json().data.facts.distro.version).toBe("7");
    expect((await get("/api/systems/unknown-id/inventory/records")).statusCode).toBe(404);
  });

  it("answers bad input with a 4xx JSON error and loses nothing", async () => {
    const { a, push, get } = await setup((s) => {
      s.server.body_limit_bytes = 64 * 1024;
      s.inventory.max_document_depth = 20;
    });
    const good = await push(a, doc("1.0"));
    expect(good.statusCode).toBe(202);
    const before = (await get(`/api/systems/${a.id}/inventory/records`)).json();

    let deep: unknown = 1;
    for (let i = 0; i < 50; i++) deep = { d: deep };
    const cases: [string, unknown, number, string][] = [
      ["malformed JSON", '{"data": {', 400, "invalid_json"],
      ["empty body", "", 400, "invalid_json"],
      ["data is a string", { data: "x" }, 400, "invalid_request"],
      ["data is an array", { data: [1, 2] }, 400, "invalid_request"],
      ["missing data", { system_id: "x" }, 400, "invalid_request"],
      ["timestamp wrong type", { data: {}, timestamp: 5 }, 400, "invalid_request"],
      ["timestamp not a time", { data: {}, timestamp: "soon" }, 400, "invalid_request"],
      ["deep nesting", { data: deep }, 400, "too_deep"],
      [
        "invalid UTF-8",
        Buffer.concat([Buffer.from('{"data":{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]),
        400,
        "invalid_utf8",
      ],
      ["huge body", { data: { blob: "x".repeat(100 * 1024) } }, 413, "payload_too_large"],
    ];
    for (const [name, payload, status, code] of cases) {
      const res = await push(a, payload);
      expect(res.statusCode, name).toBe(status);
      expect(res.json(), name).toEqual({ error: code, message: expect.any(String) });
    }
    const wrongType = await push(a, "<data/>", { "content-type": "application/xml" });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().error).toBe("unsupported_media_type");

    expect((await get(`/api/systems/${a.id}/inventory/records`)).json()).toEqual(before);
    expect((await push(a, doc("2.0"))).statusCode).toBe(202);
  });

  it("pushes back honestly: 429 per system, 503 with Retry-After when the queue is full", async () => {
    const { a, b, push } = await setup((s) => {
      s.inventory.rate_limit_per_minute = 3;
      s.queue.max_pending = 4;
    });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await push(a, doc(`r${i}`))).statusCode);
    expect(codes).toEqual([202, 202, 202, 429]);
    const limited = await push(a, doc("again"));
    expect(limited.headers["retry-after"]).toBeDefined();
    expect(limited.json()).toMatchObject({ error: "too_many_requests" });

    // fw-b has its own budget; 3 documents wait to be diffed now, so two more fill the queue past max_pending.
    expect((await push(b, doc("b1"))).statusCode).toBe(202);
    expect((await push(b, doc("b2"))).statusCode).toBe(202);
    const busy = await push(b, doc("b3"));
    expect(busy.statusCode).toBe(503);
    expect(busy.headers["retry-after"]).toBe("5");
    expect(busy.json()).toMatchObject({ error: "busy" });
    await server.ctx.queue.drain();
    const c = await createSystem(server.ctx.database.db, "acme", "fw-c");
    expect((await push(c, doc("c1"))).statusCode).toBe(202);
  });

  it("lists and re-drives dead letters", async () => {
    const { db, admin, viewer } = await setup();
    server.ctx.queue.register("test.broken", async () => {
      throw new Error("always fails");
    });
    await server.ctx.queue.enqueue(db, "test.broken", { n: 1 });
    await db.updateTable("jobs").set({ max_attempts: 1 }).execute();
    await server.ctx.queue.drain();
    const dead = await server.app.inject({ method: "GET", url: "/api/jobs/dead", headers: { authorization: viewer } });
    expect(dead.json()).toEqual([
      expect.objectContaining({ queue: "test.broken", attempts: 1, last_error: "always fails", payload: { n: 1 } }),
    ]);
    const id = dead.json()[0].id;
    const asViewer = await server.app.inject({
      method: "POST",
      url: `/api/jobs/dead/${id}/retry`,
      headers: { authorization: viewer },
    });
    expect(asViewer.statusCode).toBe(403);
    const retry = await server.app.inject({
      method: "POST",
      url: `/api/jobs/dead/${id}/retry`,
      headers: { authorization: admin },
    });
    expect(retry.statusCode).toBe(202);
    const missing = await server.app.inject({
      method: "POST",
      url: "/api/jobs/dead/999999/retry",
      headers: { authorization: admin },
    });
    expect(missing.statusCode).toBe(404);
    const depth = await server.app.inject({ method: "GET", url: "/api/jobs", headers: { authorization: viewer } });
    expect(depth.json()).toContainEqual(expect.objectContaining({ queue: "test.broken", pending: 1, dead: 0 }));
  });

  it("exposes health, readiness, metrics and OpenAPI", async () => {
    const { a, push } = await setup();
    await push(a, doc("1"));
    await push(a, "{broken");
    await push({ system_key: a.system_key, system_secret: "wrong" }, doc("2"));
    await server.ctx.queue.drain();
    expect((await server.app.inject("/healthz")).json()).toEqual({ status: "ok" });
    expect((await server.app.inject("/readyz")).json()).toMatchObject({ status: "ready" });
    const metrics = (await server.app.inject("/metrics")).body;
    expect(metrics).toMatch(/fleetledger_ingest_documents_total\{result="accepted"\} 1/);
    expect(metrics).toMatch(/fleetledger_ingest_documents_total\{result="rejected"\} 2/);
    expect(metrics).toMatch(/fleetledger_queue_jobs_total\{queue="inventory\.diff",result="completed"\} 1/);
    expect(metrics).toMatch(/fleetledger_queue_depth\{queue="inventory\.diff",state="pending"\} 0/);
    expect(metrics).toContain("process_resident_memory_bytes");
    const spec = (await server.app.inject("/docs/json")).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        "/api/systems/inventory",
        "/api/systems/{id}/inventory/diffs",
        "/api/jobs/dead/{id}/retry",
      ]),
    );
  });
});

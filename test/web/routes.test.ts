import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/tokens.js";
import { SESSION_COOKIE } from "../../src/http/auth.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import { basic, DIALECTS } from "../helpers/env.js";
import { createTestServer, type TestServer } from "../helpers/server.js";

// 150 changed fields in one document: more than one timeline page (100 rows) in a single record group.
const FIELDS = 150;
const doc = (value: number) => ({
  facts: Object.fromEntries(Array.from({ length: FIELDS }, (_, i) => [`f${String(i).padStart(3, "0")}`, value])),
});

describe.each(DIALECTS)("dashboard routes (%s)", (dialect) => {
  let server: TestServer;
  let cookie: string;
  let systemId: string;

  beforeAll(async () => {
    server = await createTestServer(dialect);
    const db = server.ctx.database.db;
    await createOrganization(db, "Org");
    const system = await createSystem(db, "Org", "many-changes");
    systemId = system.id;
    cookie = `${SESSION_COOKIE}=${await createToken(db, "admin", "admin")}`;
    for (const value of [1, 2]) {
      const response = await server.app.inject({
        method: "POST",
        url: "/api/systems/inventory",
        headers: { authorization: basic(system.system_key, system.system_secret) },
        payload: { data: doc(value) },
      });
      expect(response.statusCode).toBe(202);
    }
    await server.ctx.queue.drain();
  });

  afterAll(async () => {
    await server?.cleanup();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    server.app.inject({ method: "GET", url, headers: { cookie, ...headers } });
  const rowsIn = (body: string) => body.match(/<td class="path">/g)?.length ?? 0;

  it("renders the first timeline page with a load-more link and the chart", async () => {
    const response = await get(`/systems/${systemId}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(rowsIn(response.body)).toBe(100);
    expect(response.body).toContain(`href="/systems/${systemId}/changes?offset=100"`);
    expect(response.body).toContain("data-chart=");
    expect(response.body).toContain("150 in total");
  });

  it("returns only the next groups for an htmx load-more, continuing the record without a new header", async () => {
    const response = await get(`/systems/${systemId}/changes?offset=100`, { "hx-request": "true" });
    expect(response.body).not.toContain("<html");
    expect(response.body).not.toContain("<table");
    expect(response.body).not.toContain("group-head");
    expect(rowsIn(response.body)).toBe(50);
    expect(response.body).not.toContain("Load more");
    expect(response.headers["hx-push-url"]).toBeUndefined();
  });

  it("shows everything up to the requested page without JavaScript", async () => {
    const response = await get(`/systems/${systemId}/changes?offset=100`);
    expect(response.body).toContain("<html");
    expect(rowsIn(response.body)).toBe(150);
  });

  it("answers a filter change with the table fragment and a clean URL to push", async () => {
    const response = await get(`/systems/${systemId}/changes?category=&severity=medium&significant=on`, {
      "hx-request": "true",
    });
    expect(response.body.startsWith('<table class="data changes">')).toBe(true);
    expect(response.headers["hx-push-url"]).toBe(`/systems/${systemId}/changes?severity=medium&significant=1`);
    expect(response.headers.vary).toContain("HX-Request");
  });

  it("gives a history restore the full page", async () => {
    const response = await get(`/systems/${systemId}/changes?severity=low`, {
      "hx-request": "true",
      "hx-history-restore-request": "true",
    });
    expect(response.body).toContain("<html");
  });

  it("ignores filter values it does not know instead of failing", async () => {
    const response = await get(`/systems?status=exploded&org=nope&offset=-3`);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("many-changes");
  });

  it("never redirects a login to another site", async () => {
    const token = await createToken(server.ctx.database.db, "other", "viewer");
    for (const next of ["//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example"]) {
      const response = await server.app.inject({
        method: "POST",
        url: "/login",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ token, next }).toString(),
      });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe("/");
    }
  });

  it("sends an htmx request without a session to the login page by header", async () => {
    const response = await server.app.inject({ method: "GET", url: "/systems", headers: { "hx-request": "true" } });
    expect(response.statusCode).toBe(401);
    expect(response.headers["hx-redirect"]).toBe("/login");
  });
});

describe("dashboard without required login", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await createTestServer("sqlite", (settings) => {
      settings.web.require_login = false;
    });
  });

  afterAll(async () => {
    await server?.cleanup();
  });

  it("opens pages read-only and explains how to register a system", async () => {
    const systems = await server.app.inject({ method: "GET", url: "/systems" });
    expect(systems.statusCode).toBe(200);
    expect(systems.body).toContain("npx fleetledger system create --org ORG --name NAME");
    expect(systems.body).toContain('href="/login"');
    const retry = await server.app.inject({ method: "POST", url: "/jobs/dead/1/retry" });
    expect(retry.statusCode).toBe(403);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/tokens.js";
import { SESSION_COOKIE } from "../../src/http/auth.js";
import { iso } from "../../src/lib/time.js";
import { createOrganization } from "../../src/systems/registry.js";
import { DIALECTS } from "../helpers/env.js";
import { createTestServer, type TestServer } from "../helpers/server.js";

// One more host than a page holds.
const HOSTS = 101;
const rowsIn = (body: string) => body.match(/<tr>\s*<td><span class="status host-/g)?.length ?? 0;

describe.each(DIALECTS)("hosts pages (%s)", (dialect) => {
  let server: TestServer;
  let cookie: string;

  beforeAll(async () => {
    server = await createTestServer(dialect);
    cookie = `${SESSION_COOKIE}=${await createToken(server.ctx.database.db, "admin", "admin")}`;
  });

  afterAll(async () => {
    await server?.cleanup();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    server.app.inject({ method: "GET", url, headers: { cookie, ...headers } });

  it("tells how to enrol the first agent, with this server's address", async () => {
    const response = await get("/hosts", { host: "fleet.example:8443" });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("No agents yet.");
    expect(response.body).toContain("npx fleetledger agent enroll --server http://fleet.example:8443 --token TOKEN");
  });

  it("pages a hundred hosts at a time and reads bad filters leniently", async () => {
    const db = server.ctx.database.db;
    const org = await createOrganization(db, "Fleet");
    const now = iso(new Date());
    const ids = Array.from({ length: HOSTS }, (_, i) => `host-${String(i).padStart(3, "0")}`);
    // Rows written directly: registering 101 agents over HTTP would spend seconds hashing their secrets.
    await db
      .insertInto("systems")
      .values(
        ids.map((id) => ({
          id,
          org_id: org.id,
          name: id,
          system_key: `FL-${id}`,
          secret_hash: "unused",
          status: "unknown" as const,
          created_at: now,
          status_changed_at: now,
          last_heartbeat_at: null,
          last_inventory_at: null,
        })),
      )
      .execute();
    await db
      .insertInto("agent_clients")
      .values(
        ids.map((id) => ({
          system_id: id,
          hostname: id,
          hw_hash: null,
          machine_id: null,
          agent_version: "0.1.0",
          registered_at: now,
          last_seen_at: now,
        })),
      )
      .execute();

    const first = await get("/hosts");
    expect(rowsIn(first.body)).toBe(100);
    expect(first.body).toContain('href="/hosts?offset=100"');
    expect(first.body).toContain("1–100");
    const second = await get("/hosts?offset=100");
    expect(rowsIn(second.body)).toBe(1);
    expect(second.body).toContain('href="/hosts/host-100"');

    // An unknown organization or status and a non-numeric offset show the whole first page.
    const lenient = await get(`/hosts?org=nope&status=sleeping&offset=x&org=${org.id}`);
    expect(lenient.statusCode).toBe(200);
    expect(rowsIn(lenient.body)).toBe(100);
    expect(rowsIn((await get("/hosts?status=offline")).body)).toBe(0);
  });

  it("pushes the filter's address for a filter change but not for the table's own reload", async () => {
    const filtered = await get("/hosts?status=online&org=", { "hx-request": "true" });
    expect(filtered.headers["hx-push-url"]).toBe("/hosts?status=online");
    expect(filtered.body).not.toContain("<html");
    expect(filtered.body).toContain('hx-get="/hosts?status=online" hx-trigger="every 30s"');
    const reload = await get("/hosts?status=online", { "hx-request": "true", "hx-trigger": "hosts-refresh" });
    expect(reload.headers["hx-push-url"]).toBeUndefined();
    expect(rowsIn(reload.body)).toBe(100);
  });

  it("falls back to the default chart range and ignores malformed custom times", async () => {
    const charts = await get("/hosts/host-000?range=2y&from=yesterday");
    expect(charts.statusCode).toBe(200);
    expect(charts.body).toContain('data-range="{&quot;range&quot;:&quot;1h&quot;}"');
    const custom = await get("/hosts/host-000?from=2025-03-01T10:00&to=soon");
    expect(custom.body).toContain('data-range="{&quot;from&quot;:&quot;2025-03-01T10:00&quot;}"');
    expect(custom.body).toContain('value="2025-03-01T10:00"');
  });

  it("shows a host's empty logs and ignores a bad page cursor", async () => {
    const logs = await get("/hosts/host-000/logs?before_id=abc&severity=LOUD");
    expect(logs.statusCode).toBe(200);
    expect(logs.body).toContain("No log lines from this host.");
  });
});

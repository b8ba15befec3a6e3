import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit, writeAudit } from "../../src/commands/audit.js";
import { DIALECTS } from "../helpers/env.js";
import { type AgentSystem, type CommandServer, startCommandServer } from "./harness.js";

describe.each(DIALECTS)("audit log (%s)", (dialect) => {
  let server: CommandServer;
  let a: AgentSystem;
  let b: AgentSystem;
  const ids: number[] = [];

  beforeAll(async () => {
    server = await startCommandServer(dialect);
    a = await server.newSystem("a-01");
    b = await server.newSystem("b-01");
    const db = server.ctx.database.db;
    for (let i = 0; i < 7; i++) {
      ids.push(
        await writeAudit(
          db,
          {
            actor: "ci-admin (token 0123456789abcdef)",
            action: i % 2 === 0 ? "command.fan_control" : "command.system_info",
            system_id: i < 5 ? a.id : b.id,
            detail: { id: `req-${i}`, command_data: { mode: "optimal" } },
            outcome: i === 3 ? "timeout" : "ok",
            result: i === 3 ? { error: "no reply from the agent within 30 s" } : { stdout: `out ${i}` },
          },
          new Date(Date.UTC(2025, 0, 1, 0, i)),
        ),
      );
    }
    // A row written by another writer with plain error text and no system.
    await db
      .insertInto("audit_log")
      .values({
        at: "2025-01-01T00:10:00.000Z",
        actor: "system",
        action: "agent.register",
        system_id: null,
        detail: "{}",
        outcome: "error",
        result: "enrolment token expired",
      })
      .execute();
  });

  afterAll(async () => {
    await server?.cleanup();
  });

  it("returns entries newest first with their JSON decoded", async () => {
    const page = await listAudit(server.ctx.database.db, { limit: 2 });
    expect(page.entries.map((entry) => entry.action)).toEqual(["agent.register", "command.fan_control"]);
    expect(page.entries[0]).toMatchObject({ system_id: null, outcome: "error", result: "enrolment token expired" });
    expect(page.entries[1]).toEqual({
      id: ids[6],
      at: "2025-01-01T00:06:00.000Z",
      actor: "ci-admin (token 0123456789abcdef)",
      action: "command.fan_control",
      system_id: b.id,
      detail: { id: "req-6", command_data: { mode: "optimal" } },
      outcome: "ok",
      result: { stdout: "out 6" },
    });
    expect(page.next_before_id).toBe(ids[6]);
  });

  it("pages through one system's entries with before_id until the end", async () => {
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await listAudit(server.ctx.database.db, { system_id: a.id, limit: 2, before_id: before });
      seen.push(...page.entries.map((entry) => entry.id));
      if (page.next_before_id === null) break;
      before = page.next_before_id;
    }
    expect(seen).toEqual(ids.slice(0, 5).reverse());
  });

  it("filters by action and serves the same over GET /api/audit", async () => {
    const first = await server.get(`/api/audit?action=command.system_info&limit=2`);
    expect(first.status).toBe(200);
    const entries = first.body.entries as { id: number; action: string }[];
    expect(entries.map((entry) => entry.id)).toEqual([ids[5], ids[3]]);
    expect(first.body.next_before_id).toBe(ids[3]);
    const second = await server.get(`/api/audit?action=command.system_info&limit=2&before_id=${ids[3]}`);
    expect((second.body.entries as { id: number }[]).map((entry) => entry.id)).toEqual([ids[1]]);
    expect(second.body.next_before_id).toBeNull();
    const timeout = (await server.get(`/api/audit?system_id=${a.id}&limit=5`)).body.entries as {
      outcome: string;
      result: unknown;
    }[];
    expect(timeout.find((entry) => entry.outcome === "timeout")?.result).toEqual({
      error: "no reply from the agent within 30 s",
    });
  });

  it("rejects bad paging parameters with 400", async () => {
    for (const query of ["limit=0", "limit=1001", "before_id=0", "before_id=abc", "limit=ten"]) {
      const response = await server.get(`/api/audit?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error).toBe("invalid_request");
    }
  });
});

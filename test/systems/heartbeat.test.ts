import { afterEach, describe, expect, it } from "vitest";
import { listAlerts } from "../../src/alerts/store.js";
import { recordHeartbeat, syncLinkFailed, updateStatuses } from "../../src/systems/heartbeat.js";
import { createOrganization, createSystem, getSystem } from "../../src/systems/registry.js";
import { createTestEnv, DIALECTS, type TestEnv } from "../helpers/env.js";

const settings = { timeoutMinutes: 10, linkFailedTtlMinutes: 10 };
const t = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, 0) + minute * 60_000);

describe.each(DIALECTS)("heartbeat status and LinkFailed on %s", (dialect) => {
  let env: TestEnv;
  afterEach(async () => env?.cleanup());

  it("walks unknown → active → inactive → active and fires/resolves LinkFailed", async () => {
    env = await createTestEnv(dialect);
    const db = env.ctx.database.db;
    await createOrganization(db, "acme", t(0));
    const sys = await createSystem(db, "acme", "fw-1", t(0));
    const status = async () => (await getSystem(db, sys.id))?.status;

    expect(await status()).toBe("unknown");
    await recordHeartbeat(db, sys.id, t(1));
    expect(await status()).toBe("active");

    await updateStatuses(db, settings, t(10));
    expect(await status()).toBe("active");
    await updateStatuses(db, settings, t(12));
    expect(await status()).toBe("inactive");

    await syncLinkFailed(db, settings, t(13));
    let alerts = await listAlerts(db, { status: "firing", limit: 10, offset: 0 }, t(13));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      labels: {
        alertname: "LinkFailed",
        severity: "critical",
        system_id: sys.id,
        system_key: sys.system_key,
        organization_name: "acme",
      },
      starts_at: t(11).toISOString(),
      ends_at: t(23).toISOString(),
    });

    // A refresh keeps startsAt and pushes endsAt.
    await syncLinkFailed(db, settings, t(18));
    alerts = await listAlerts(db, { status: "firing", limit: 10, offset: 0 }, t(18));
    expect(alerts[0]).toMatchObject({ starts_at: t(11).toISOString(), ends_at: t(28).toISOString() });

    // Coming back resolves it at once.
    await recordHeartbeat(db, sys.id, t(20));
    expect(await status()).toBe("active");
    expect(await listAlerts(db, { status: "firing", limit: 10, offset: 0 }, t(20))).toEqual([]);
    const resolved = await listAlerts(db, { status: "resolved", limit: 10, offset: 0 }, t(20));
    expect(resolved[0]).toMatchObject({ status: "resolved", ends_at: t(20).toISOString() });
  });

  it("moves a system that never sent a heartbeat to inactive after the timeout since registration", async () => {
    env = await createTestEnv(dialect);
    const db = env.ctx.database.db;
    await createOrganization(db, "acme", t(0));
    const sys = await createSystem(db, "acme", "silent", t(0));
    await updateStatuses(db, settings, t(5));
    expect((await getSystem(db, sys.id))?.status).toBe("unknown");
    await updateStatuses(db, settings, t(11));
    expect((await getSystem(db, sys.id))?.status).toBe("inactive");
    await syncLinkFailed(db, settings, t(30));
    const [alert] = await listAlerts(db, { status: "firing", limit: 10, offset: 0 }, t(30));
    expect(alert?.starts_at).toBe(t(10).toISOString());
    expect(alert?.annotations.description).toContain("No heartbeat since registration");
  });
});

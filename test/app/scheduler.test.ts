import { afterEach, describe, expect, it } from "vitest";
import { startSchedules } from "../../src/app/scheduler.js";
import { listAlerts } from "../../src/alerts/store.js";
import { createOrganization, createSystem, getSystem } from "../../src/systems/registry.js";
import { createTestEnv, type TestEnv } from "../helpers/env.js";

describe("schedules", () => {
  let env: TestEnv;
  afterEach(async () => env?.cleanup());

  it("runs the heartbeat check and LinkFailed sync on their periods", async () => {
    env = await createTestEnv("sqlite", (s) => {
      s.inventory.heartbeat_timeout_minutes = 0.01;
      s.inventory.heartbeat_check_seconds = 1;
      s.inventory.linkfailed_refresh_minutes = 1 / 60;
    });
    const db = env.ctx.database.db;
    await createOrganization(db, "acme");
    const sys = await createSystem(db, "acme", "quiet", new Date(Date.now() - 60_000));
    const schedules = startSchedules(env.ctx);
    try {
      let status: string | undefined;
      let firing = 0;
      for (let i = 0; i < 40 && (status !== "inactive" || firing === 0); i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await getSystem(db, sys.id))?.status;
        firing = (await listAlerts(db, { status: "firing", limit: 10, offset: 0 }, new Date())).length;
      }
      expect(status).toBe("inactive");
      expect(firing).toBe(1);
    } finally {
      await schedules.stop();
    }
  });
});

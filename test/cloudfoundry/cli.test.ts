import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_PLAN_GUID } from "../../src/cloudfoundry/intervals.js";
import { type CloudFoundrySim, SIM_DEFAULTS, startCloudFoundrySim } from "../../src/sim/cloudfoundry.js";
import { cli, cliAsync } from "../helpers/cli.js";

let sim: CloudFoundrySim;

beforeAll(async () => {
  sim = await startCloudFoundrySim();
  const event = (state: "STARTED" | "STOPPED", at: string) => ({
    state,
    app_guid: "app-1",
    app_name: "web",
    space_guid: "space-1",
    space_name: "prod",
    org_guid: "org-1",
    instance_count: 1,
    memory_in_mb_per_instance: 64,
    created_at: at,
  });
  // Public case 3's usage: running from 2017-01-01 to 2017-03-01 under a plan whose price changes in February.
  sim.addAppEvents([event("STARTED", "2017-01-01T00:00:00Z"), event("STOPPED", "2017-03-01T00:00:00Z")]);
});

afterAll(async () => {
  await sim?.stop();
});

describe("cf sync and bill commands", () => {
  it("collects once, then prints the bill as JSON, CSV and XLSX", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-cf-"));
    const config = join(dir, "fleetledger.yml");
    writeFileSync(
      config,
      `cloudfoundry:
  foundations:
    - name: sim
      api: ${sim.url}
      client_id: ${SIM_DEFAULTS.client.client_id}
      client_secret: ${SIM_DEFAULTS.client.client_secret}
      fetch_limit: 1
billing:
  vat_rates: [{ code: Standard, valid_from: "1970-01-01", rate: "0.2" }]
  currency_rates: [{ code: GBP, valid_from: "1970-01-01", rate: "1" }]
  pricing_plans:
    - { name: app, plan_guid: ${APP_PLAN_GUID}, valid_from: "2017-01-01", components: [{ name: c, formula: "1", currency_code: GBP, vat_code: Standard }] }
    - { name: app, plan_guid: ${APP_PLAN_GUID}, valid_from: "2017-02-01", components: [{ name: c, formula: "33", currency_code: GBP, vat_code: Standard }] }
`,
    );
    const base = ["--config", config, "--data-dir", dir];
    const sync = await cliAsync(["cf", "sync", "--once", "--json", ...base]);
    expect(sync.status).toBe(0);
    expect(JSON.parse(sync.stdout)).toEqual([
      { source: "sim", kind: "app", stored: 2, fetched: 2, skipped_bad: 0, gap: false },
      { source: "sim", kind: "service", stored: 0, fetched: 0, skipped_bad: 0, gap: false },
    ]);
    expect(sync.stderr).toContain("sim app events: 2 read, 2 new");

    const jan = JSON.parse(cli(["bill", "--month", "2017-01", "--format", "json", ...base]).stdout);
    expect(jan.totals).toEqual({ ex_vat: "1.00", inc_vat: "1.20" });
    const feb = JSON.parse(cli(["bill", "--month", "2017-02", ...base]).stdout);
    expect(feb.totals).toEqual({ ex_vat: "33.00", inc_vat: "39.60" });

    const csv = cli(["bill", "--month", "2017-02", "--format", "csv", "--org", "org-1", ...base]);
    expect(csv.stdout.split("\r\n")[1]).toBe(
      "2017-02,org-1,org-1,prod,space-1,app,f4d4b95a-f55e-4593-8d54-3364c25798c4,app,1,33,39.6,GBP",
    );
    const xlsx = join(dir, "bill.xlsx");
    expect(cli(["bill", "--month", "2017-02", "--format", "xlsx", "--output", xlsx, ...base]).status).toBe(0);
    expect(readFileSync(xlsx).subarray(0, 2).toString()).toBe("PK");
    const noOutput = cli(["bill", "--month", "2017-02", "--format", "xlsx", ...base]);
    expect(noOutput.status).toBe(2);
    expect(noOutput.stderr).toContain("--output");
    expect(cli(["bill", "--month", "2017-2", ...base]).stderr).toContain("--month must be YYYY-MM");
    expect(existsSync(join(dir, "fleetledger.db"))).toBe(true);
  }, 120_000);
});

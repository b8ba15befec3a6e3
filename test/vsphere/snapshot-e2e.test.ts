import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/connect.js";
import { VimClient } from "../../src/vsphere/soap/client.js";
import { containerViewFilter, createContainerView, retrieveAll } from "../../src/vsphere/soap/property-collector.js";
import type { MoRef } from "../../src/vsphere/soap/values.js";
import { destroyVm, powerOffVm, reconfigVm, waitForTask } from "../../src/vsphere/soap/vm-ops.js";
import { cli, cliJson } from "../helpers/cli.js";
import { TEST_PG_URL } from "../helpers/env.js";
import { startVcsim, type Vcsim } from "../helpers/vcsim.js";

const DAY = "2026-11-02";
const at = (h: number) => `${DAY}T${String(h).padStart(2, "0")}:00:05Z`;

let sim: Vcsim;
let client: VimClient;

beforeAll(async () => {
  // vCTP charges by pool name, so each cluster gets a Tin and a Gold pool.
  sim = await startVcsim({
    datacenters: 1,
    clustersPerDatacenter: 2,
    hostsPerCluster: 1,
    poolsPerCluster: 2,
    poolNames: ["Tin", "Gold"],
    vms: 12,
  });
  client = await VimClient.connect({ url: sim.url, insecure: true, timeoutMs: 10_000 });
  await client.login(sim.username, sim.password);
}, 180_000);

afterAll(async () => {
  await client?.logout().catch(() => undefined);
  await client?.close();
  await sim?.stop();
});

async function objects(type: string, pathSet: string[]) {
  const view = await createContainerView(client, client.serviceContent.rootFolder, [type], true);
  return retrieveAll(client, [containerViewFilter(view, [{ type, pathSet }])]);
}

function settingsFile(dir: string, extra = ""): string {
  const file = join(dir, "fleetledger.yml");
  writeFileSync(
    file,
    `# vCTP block pasted from vctp.yml
settings:
  vcenter_addresses: ["${sim.url}"]
  vcenter_username: ${sim.username}
  vcenter_password: "${sim.password}"
  vcenter_insecure: true
  hourly_snapshot_max_retries: 0
${extra}billing:
  rate_card:
    Tin: { vcpu_hour: "0.01", ram_gb_hour: "0.001", disk_gb_month: "0.02" }
    Bronze: { vcpu_hour: "0.02", ram_gb_hour: "0.002", disk_gb_month: "0.04" }
    Silver: { vcpu_hour: "0.03", ram_gb_hour: "0.003", disk_gb_month: "0.06" }
    Gold: { vcpu_hour: "0.05", ram_gb_hour: "0.005", disk_gb_month: "0.1" }
`,
  );
  return file;
}

describe("vCenter snapshots end to end (CLI against vcsim)", () => {
  it("snapshots, follows changes made through SOAP, rolls up, charges and migrates to PostgreSQL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-vsphere-"));
    const config = settingsFile(dir);
    const base = ["--config", config, "--data-dir", dir];

    const first = cliJson<{ status: string; rows: number }[]>([
      "vsphere",
      "snapshot",
      "--once",
      "--at",
      at(0),
      ...base,
    ]);
    expect(first).toEqual([expect.objectContaining({ vcenter: sim.url, status: "success", rows: 12 })]);
    // The plaintext password was replaced in place by its enc:v1: form, comments and the rest untouched.
    const rewritten = readFileSync(config, "utf8");
    expect(rewritten).toMatch(/vcenter_password: "enc:v1:[A-Za-z0-9_-]+"/);
    expect(rewritten).not.toContain(sim.password);
    expect(rewritten.startsWith("# vCTP block pasted from vctp.yml\n")).toBe(true);

    const vms = (await objects("VirtualMachine", ["name", "config.hardware.numCPU"])).sort((a, b) =>
      a.obj.value.localeCompare(b.obj.value),
    );
    const [resized, stopped, doomed] = vms.map((v) => v.obj) as [MoRef, MoRef, MoRef];
    const cpusBefore = Number(vms[0]?.props.get("config.hardware.numCPU"));
    await waitForTask(client, await reconfigVm(client, resized, { numCPUs: cpusBefore + 3, memoryMB: 8192 }));
    await waitForTask(client, await powerOffVm(client, stopped));
    await waitForTask(client, await powerOffVm(client, doomed));
    await waitForTask(client, await destroyVm(client, doomed));

    for (const h of [1, 2, 3]) {
      const run = cliJson<{ status: string; rows: number }[]>([
        "vsphere",
        "snapshot",
        "--once",
        "--at",
        at(h),
        ...base,
      ]);
      expect(run[0]).toMatchObject({ status: "success", rows: 11 });
    }
    const daily = cliJson<{ rows: number; reports: string[] }>(["vsphere", "aggregate", "--daily", DAY, ...base]);
    expect(daily.rows).toBe(12);
    expect(daily.reports.some((f) => f.endsWith("vctp-daily-2026-11-02.xlsx"))).toBe(true);

    const database = await openDatabase(`sqlite:${join(dir, "fleetledger.db")}`);
    try {
      const rows = await database.db.selectFrom("vm_daily_rollup").selectAll().where("day", "=", DAY).execute();
      const row = (id: string) => rows.find((r) => r.vm_id === id);
      expect(row(resized.value)).toMatchObject({ samples_present: 4, total_samples: 4, avg_is_present: 1 });
      expect(row(resized.value)?.avg_vcpu_count).toBeCloseTo((cpusBefore + 3 * (cpusBefore + 3)) / 4, 12);
      expect(row(doomed.value)).toMatchObject({ samples_present: 1, avg_is_present: 0.25 });
      expect(Number(row(doomed.value)?.deletion_time)).toBe(Date.parse(at(1)) / 1000);
      const poweredOff = await database.db
        .selectFrom("vm_samples")
        .select("powered_on")
        .where("vm_id", "=", stopped.value)
        .where("snapshot_time", "=", Date.parse(at(3)) / 1000)
        .executeTakeFirst();
      expect(poweredOff?.powered_on).toBe(0);
      const tiers = new Set(rows.map((r) => r.resource_pool));
      expect(tiers.has("Tin") && tiers.has("Gold")).toBe(true);
      for (const r of rows) {
        // VMs in a cluster's root pool "Resources" belong to no tier.
        expect(r.tin + r.gold).toBeCloseTo(r.resource_pool === "Resources" ? 0 : r.avg_is_present, 12);
      }
    } finally {
      await database.close();
    }

    const bill = cliJson<{ total: string; tenants: { total: string }[] }>([
      "vsphere",
      "chargeback",
      "--date",
      DAY,
      ...base,
    ]);
    expect(Number(bill.total)).toBeGreaterThan(0);
    const sum = bill.tenants.reduce((s, t) => s + Number(t.total), 0);
    expect(Math.abs(sum - Number(bill.total))).toBeLessThan(0.01 * bill.tenants.length + 1e-9);

    expect(cliJson(["vsphere", "backfill-cache", ...base])).toEqual({ snapshots: 4, days: 1, months: 0 });
    expect(cliJson(["db-cleanup", ...base])).toMatchObject({ samples: expect.any(Number), daily: expect.any(Number) });

    if (TEST_PG_URL) {
      const name = `fl_import_${randomBytes(4).toString("hex")}`;
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      await admin.query(`create database ${name}`);
      try {
        const target = new URL(TEST_PG_URL);
        target.pathname = `/${name}`;
        const counts = cliJson<Record<string, number>>(
          ["import", "--from", `sqlite:${join(dir, "fleetledger.db")}`, ...base],
          {
            FLEETLEDGER_DATABASE__URL: target.toString(),
          },
        );
        expect(counts).toMatchObject({ vm_samples: 12 + 11 * 3, vm_daily_rollup: 12, vsphere_snapshots: 4 });
        const again = cliJson<Record<string, number>>(
          ["import", "--from", `sqlite:${join(dir, "fleetledger.db")}`, ...base],
          {
            FLEETLEDGER_DATABASE__URL: target.toString(),
          },
        );
        expect(again).toEqual(counts);
      } finally {
        await admin.query(`drop database ${name} with (force)`);
        await admin.end();
      }
    }
  }, 240_000);

  it("records a wrong password, a dead vCenter and a TLS failure as failed runs with their reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-vsphere-"));
    const base = ["--config", settingsFile(dir), "--data-dir", dir];
    const wrong = cli(["vsphere", "snapshot", "--once", "--at", at(5), "--json", ...base], {
      FLEETLEDGER_SETTINGS__VCENTER_PASSWORD: "not-the-password",
    });
    expect(wrong.status).toBe(1);
    expect(JSON.parse(wrong.stdout)[0]).toMatchObject({ status: "failed", rows: 0 });
    expect(JSON.parse(wrong.stdout)[0].error).toMatch(/InvalidLogin|login/i);

    const dead = cli(["vsphere", "snapshot", "--once", "--at", at(6), "--json", ...base], {
      FLEETLEDGER_SETTINGS__VCENTER_ADDRESSES: JSON.stringify(["https://127.0.0.1:1/sdk"]),
    });
    expect(JSON.parse(dead.stdout)[0].error).toMatch(/ECONNREFUSED|refused/i);

    const tls = cli(["vsphere", "snapshot", "--once", "--at", at(7), "--json", ...base], {
      FLEETLEDGER_SETTINGS__VCENTER_INSECURE: "false",
    });
    expect(JSON.parse(tls.stdout)[0].error).toMatch(/TLS|certificate/i);

    const database = await openDatabase(`sqlite:${join(dir, "fleetledger.db")}`);
    try {
      const runs = await database.db.selectFrom("vsphere_snapshots").selectAll().orderBy("snapshot_time").execute();
      expect(runs.map((r) => [r.status, r.rows])).toEqual([
        ["failed", 0],
        ["failed", 0],
        ["failed", 0],
      ]);
      expect(await database.db.selectFrom("vm_samples").selectAll().execute()).toEqual([]);
    } finally {
      await database.close();
    }
  }, 120_000);
});

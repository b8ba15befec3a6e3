import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import ExcelJS from "exceljs";
import JSZip from "jszip";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listReports,
  resolveReport,
  writeDailyReport,
  writeHourlyReport,
  writeMonthlyReport,
} from "../../src/reports/vsphere-reports.js";
import { toCsv } from "../../src/reports/csv.js";
import { aggregateDaily, aggregateMonthly } from "../../src/vsphere/aggregate.js";
import type { VmSample as CollectedVm } from "../../src/vsphere/collect/sample.js";
import { storeSnapshot } from "../../src/vsphere/snapshots.js";
import { createTestEnv, type TestEnv } from "../helpers/env.js";

const run = promisify(execFile);

const DAY1 = Date.UTC(2026, 9, 30) / 1000; // 2026-10-30
const at = (dayOffset: number, h: number) => DAY1 + dayOffset * 86400 + h * 3600 + 30;
const VC_A = "https://vc-a.example/sdk";
const VC_B = "https://vc-b.example/sdk";
const ODD_NAME = 'app "blue", v2';
const CREATED = DAY1 + 9.5 * 3600;

function vm(id: string, over: Partial<CollectedVm> = {}): CollectedVm {
  return {
    VmId: id,
    VmUuid: `uuid-${id}`,
    InstanceUuid: `inst-${id}`,
    Name: `name-${id}`,
    ResourcePool: "Tin",
    Datacenter: "DC0",
    Cluster: "C0",
    Folder: "vm/acme",
    ProvisionedDisk: 100,
    VcpuCount: 2,
    RamGB: 4,
    CreationTime: 0,
    IsTemplate: false,
    PoweredOn: true,
    SrmPlaceholder: false,
    ...over,
  };
}

/** Two days of hourly snapshots of two vCenters: a Tin and a Gold VM each, a VM created and one deleted mid-way. */
function scenario(): { vcenter: string; time: number; rows: CollectedVm[] }[] {
  const runs: { vcenter: string; time: number; rows: CollectedVm[] }[] = [];
  for (let d = 0; d < 2; d++) {
    for (let h = 0; h < 24; h++) {
      const hour = d * 24 + h;
      const a = [
        vm("vm-1", { Name: "web-01" }),
        vm("vm-2", { Name: "db-01", ResourcePool: "Gold", VcpuCount: 8, RamGB: 32, ProvisionedDisk: 500 }),
      ];
      if (hour >= 10) a.push(vm("vm-3", { Name: ODD_NAME, CreationTime: CREATED }));
      if (hour < 36) a.push(vm("vm-4", { Name: "batch-01", ResourcePool: "Gold", VcpuCount: 4 }));
      runs.push({ vcenter: VC_A, time: at(d, h), rows: a });
      runs.push({
        vcenter: VC_B,
        time: at(d, h) + 5,
        rows: [vm("vm-1", { Name: "erp-01", ResourcePool: "Gold", VcpuCount: 16 }), vm("vm-7", { Name: "test-01" })],
      });
    }
  }
  return runs;
}

async function readWorkbook(path: string): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path);
  return workbook;
}

function rowValues(sheet: ExcelJS.Worksheet, row: number): unknown[] {
  return (sheet.getRow(row).values as unknown[]).slice(1);
}

function headerRow(workbook: ExcelJS.Workbook, name: string): unknown[] {
  const sheet = workbook.getWorksheet(name);
  if (!sheet) throw new Error(`sheet ${name} missing`);
  return rowValues(sheet, 1);
}

async function zipParts(path: string): Promise<string[]> {
  return Object.keys((await JSZip.loadAsync(readFileSync(path))).files);
}

async function requireTool(command: string, debianPackage: string): Promise<void> {
  try {
    await run("sh", ["-c", `command -v ${command}`]);
  } catch {
    throw new Error(
      `${command} not found: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`,
    );
  }
}

describe("vSphere reports", () => {
  let env: TestEnv;
  let dir: string;
  let hourly: string;
  let daily: string;
  let monthly: string;

  beforeAll(async () => {
    env = await createTestEnv("sqlite");
    const db = env.ctx.database.db;
    for (const r of scenario()) {
      await storeSnapshot(db, {
        vcenter: r.vcenter,
        snapshotTime: r.time,
        rows: r.rows,
        durationMs: 5,
        roundTrips: 3,
        attempts: 1,
      });
    }
    await aggregateDaily(db, "sqlite", "2026-10-30");
    await aggregateDaily(db, "sqlite", "2026-10-31");
    await aggregateMonthly(db, "sqlite", "2026-10");
    dir = join(env.dataDir, "reports");
    hourly = await writeHourlyReport(db, { snapshotTime: at(1, 23), dir });
    daily = await writeDailyReport(db, { day: "2026-10-31", dir });
    monthly = await writeMonthlyReport(db, { month: "2026-10", dir });
  });
  afterAll(async () => env?.cleanup());

  it("writes the hourly report: 48 h of interval totals with a chart and the run's VM rows", async () => {
    expect(hourly).toBe(join(dir, "vctp-hourly-20261031-2300.xlsx"));
    const workbook = await readWorkbook(hourly);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(["Totals", "VMs"]);
    expect(headerRow(workbook, "Totals").slice(0, 10)).toEqual([
      "Interval",
      "Vcenter",
      "VMs",
      "vCPUs",
      "RAM GB",
      "Disk GB",
      "Tin",
      "Bronze",
      "Silver",
      "Gold",
    ]);
    expect(headerRow(workbook, "VMs")).toEqual([
      "Vcenter",
      "VmId",
      "VmUuid",
      "Name",
      "ResourcePool",
      "Cluster",
      "Datacenter",
      "Folder",
      "VcpuCount",
      "RamGB",
      "ProvisionedDisk",
      "PoweredOn",
      "IsTemplate",
      "CreationTime",
      "DeletionTime",
      "SnapshotTime",
    ]);

    const db = env.ctx.database.db;
    const expected = await db
      .selectFrom("vcenter_aggregate_totals")
      .selectAll()
      .where("kind", "=", "hourly")
      .where("period_start", ">=", DAY1 + 23 * 3600 - 48 * 3600)
      .where("period_start", "<", DAY1 + 47 * 3600)
      .orderBy("period_start")
      .orderBy("vcenter")
      .execute();
    expect(expected).toHaveLength(96);
    const totals = workbook.getWorksheet("Totals") as ExcelJS.Worksheet;
    // 30 Oct 09:00-10:00: vm-3 was created at 09:30, so it counts as half a VM.
    const nine = expected.findIndex((t) => t.vcenter === VC_A && Number(t.period_start) === DAY1 + 9 * 3600);
    expect(rowValues(totals, nine + 2).slice(0, 7)).toEqual([
      "2026-10-30 09:00 to 10:00",
      VC_A,
      expected[nine]?.vm_count,
      expected[nine]?.vcpus,
      expected[nine]?.ram_gb,
      expected[nine]?.provisioned_disk,
      expected[nine]?.tin,
    ]);
    expect(expected[nine]?.vm_count).toBeCloseTo(3.5, 9);
    expect(rowValues(totals, 97)[0]).toBe("2026-10-31 22:00 to 23:00");
    expect(rowValues(totals, 2 + 2 * 24)[0]).toBe("2026-10-30 23:00 to 24:00");
    expect(totals.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(totals.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });

    const vms = workbook.getWorksheet("VMs") as ExcelJS.Worksheet;
    expect(vms.rowCount).toBe(1 + 3 + 2);
    const odd = rowValues(vms, 2);
    expect(odd.slice(0, 4)).toEqual([VC_A, "vm-3", "uuid-vm-3", ODD_NAME]);
    expect(odd.slice(8, 13)).toEqual([2, 4, 100, true, false]);
    expect(odd[13]).toEqual(new Date(CREATED * 1000));
    expect(odd[14]).toBeUndefined();
    expect(odd[15]).toEqual(new Date(at(1, 23) * 1000));
    expect(vms.getCell("B3").value).toBe("vm-2");
    expect(vms.getCell("N3").value).toBeNull();

    const parts = await zipParts(hourly);
    expect(parts).toEqual(expect.arrayContaining(["xl/charts/chart1.xml", "xl/drawings/drawing1.xml"]));

    const csv = readFileSync(hourly.replace(/\.xlsx$/, ".csv"), "utf8");
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(
      "Vcenter,VmId,VmUuid,Name,ResourcePool,Cluster,Datacenter,Folder,VcpuCount,RamGB,ProvisionedDisk,PoweredOn,IsTemplate,CreationTime,DeletionTime,SnapshotTime",
    );
    expect(lines[1]).toBe(
      `${VC_A},vm-3,uuid-vm-3,"app ""blue"", v2",Tin,C0,DC0,vm/acme,2,4,100,TRUE,FALSE,2026-10-30T09:30:00Z,,2026-10-31T23:00:30Z`,
    );
    expect(lines).toHaveLength(1 + 5 + 1);
    expect(lines.at(-1)).toBe("");
  });

  it("writes the daily report: the day's totals, its hourly intervals and the daily rollup rows", async () => {
    expect(daily).toBe(join(dir, "vctp-daily-2026-10-31.xlsx"));
    const workbook = await readWorkbook(daily);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(["Totals", "VMs"]);
    expect(headerRow(workbook, "VMs")).toEqual([
      "Vcenter",
      "VmId",
      "VmUuid",
      "Name",
      "ResourcePool",
      "Cluster",
      "Datacenter",
      "SamplesPresent",
      "TotalSamples",
      "AvgIsPresent",
      "AvgVcpuCount",
      "AvgRamGB",
      "AvgProvisionedDisk",
      "PoolTinPct",
      "PoolBronzePct",
      "PoolSilverPct",
      "PoolGoldPct",
      "Tin",
      "Bronze",
      "Silver",
      "Gold",
      "CreationTime",
      "DeletionTime",
      "SnapshotTime",
    ]);

    const db = env.ctx.database.db;
    const dayTotals = await db
      .selectFrom("vcenter_aggregate_totals")
      .selectAll()
      .where("kind", "=", "daily")
      .where("period_start", "=", DAY1 + 86400)
      .orderBy("vcenter")
      .execute();
    const totals = workbook.getWorksheet("Totals") as ExcelJS.Worksheet;
    expect(rowValues(totals, 2).slice(0, 10)).toEqual([
      "2026-10-31 to 2026-11-01",
      VC_A,
      ...["vm_count", "vcpus", "ram_gb", "provisioned_disk", "tin", "bronze", "silver", "gold"].map(
        (k) => dayTotals[0]?.[k as keyof (typeof dayTotals)[number]],
      ),
    ]);
    expect(rowValues(totals, 3).slice(0, 2)).toEqual(["2026-10-31 to 2026-11-01", VC_B]);
    expect(rowValues(totals, 5)[0]).toBe("Interval");
    expect(rowValues(totals, 6).slice(0, 2)).toEqual(["2026-10-31 00:00 to 01:00", VC_A]);
    // The day's last hour closes with the next day's first snapshot, which has not been taken.
    expect(rowValues(totals, 5 + 46)[0]).toBe("2026-10-31 22:00 to 23:00");
    expect(totals.rowCount).toBe(5 + 46);

    const batch = await db
      .selectFrom("vm_daily_rollup")
      .selectAll()
      .where("day", "=", "2026-10-31")
      .where("vcenter", "=", VC_A)
      .where("vm_id", "=", "vm-4")
      .executeTakeFirstOrThrow();
    const vms = workbook.getWorksheet("VMs") as ExcelJS.Worksheet;
    const rowOfBatch = rowValues(vms, 3);
    expect(rowOfBatch.slice(0, 4)).toEqual([VC_A, "vm-4", "uuid-vm-4", "batch-01"]);
    expect(rowOfBatch.slice(7, 21)).toEqual([
      12,
      24,
      batch.avg_is_present,
      batch.avg_vcpu_count,
      batch.avg_ram_gb,
      batch.avg_provisioned_disk,
      0,
      0,
      0,
      100,
      0,
      0,
      0,
      batch.gold,
    ]);
    expect(batch.avg_is_present).toBe(0.5);
    expect(rowOfBatch[22]).toEqual(new Date(at(1, 12) * 1000));

    expect(await zipParts(daily)).toContain("xl/charts/chart1.xml");
  });

  it("writes the monthly report with full-day interval labels on the Daily Totals sheet", async () => {
    expect(monthly).toBe(join(dir, "vctp-monthly-2026-10.xlsx"));
    const workbook = await readWorkbook(monthly);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(["Totals", "Daily Totals", "VMs"]);
    expect(headerRow(workbook, "Daily Totals").slice(0, 9)).toEqual([
      "Interval",
      "VMs",
      "vCPUs",
      "RAM GB",
      "Disk GB",
      "Tin",
      "Bronze",
      "Silver",
      "Gold",
    ]);
    const db = env.ctx.database.db;
    const day1 = await db.selectFrom("vm_daily_rollup").selectAll().where("day", "=", "2026-10-30").execute();
    const sum = (k: "avg_is_present" | "avg_vcpu_count" | "gold") => day1.reduce((s, r) => s + r[k], 0);
    const dailyTotals = workbook.getWorksheet("Daily Totals") as ExcelJS.Worksheet;
    expect(dailyTotals.rowCount).toBe(3);
    const first = rowValues(dailyTotals, 2);
    expect(first[0]).toBe("2026-10-30 to 2026-10-31");
    expect(first[1]).toBeCloseTo(sum("avg_is_present"), 9);
    expect(first[2]).toBeCloseTo(sum("avg_vcpu_count"), 9);
    expect(first[8]).toBeCloseTo(sum("gold"), 9);
    expect(rowValues(dailyTotals, 3)[0]).toBe("2026-10-31 to 2026-11-01");

    const month = await db
      .selectFrom("vcenter_aggregate_totals")
      .selectAll()
      .where("kind", "=", "monthly")
      .orderBy("vcenter")
      .execute();
    const totals = workbook.getWorksheet("Totals") as ExcelJS.Worksheet;
    expect(rowValues(totals, 2).slice(0, 4)).toEqual([
      "2026-10-01 to 2026-11-01",
      VC_A,
      month[0]?.vm_count,
      month[0]?.vcpus,
    ]);
    expect(rowValues(totals, 3)[1]).toBe(VC_B);

    const vms = workbook.getWorksheet("VMs") as ExcelJS.Worksheet;
    expect(headerRow(workbook, "VMs")).toEqual(headerRow(await readWorkbook(daily), "VMs"));
    expect(vms.rowCount).toBe(1 + 6);

    expect(await zipParts(monthly)).toEqual(expect.arrayContaining(["xl/charts/chart1.xml", "xl/charts/chart2.xml"]));
  });

  it("lists the reports newest first and resolves only report names", async () => {
    const reports = await listReports(dir);
    expect(reports.map((r) => r.name).sort()).toEqual([
      "vctp-daily-2026-10-31.csv",
      "vctp-daily-2026-10-31.xlsx",
      "vctp-hourly-20261031-2300.csv",
      "vctp-hourly-20261031-2300.xlsx",
      "vctp-monthly-2026-10.csv",
      "vctp-monthly-2026-10.xlsx",
    ]);
    expect(reports[0]).toMatchObject({ name: "vctp-monthly-2026-10.xlsx", kind: "monthly", format: "xlsx" });
    expect(reports.find((r) => r.name.endsWith("2300.csv"))).toMatchObject({ kind: "hourly", format: "csv" });
    expect(reports.every((r) => r.size > 0)).toBe(true);
    const times = reports.map((r) => r.modified);
    expect(times).toEqual([...times].sort().reverse());

    expect(await resolveReport(dir, "vctp-daily-2026-10-31.xlsx")).toBe(daily);
    for (const name of [
      "../fleetledger.db",
      "vctp-daily-2026-10-31.xlsx/../x",
      "/etc/passwd",
      "vctp-daily-2026-10-29.xlsx",
    ]) {
      expect(await resolveReport(dir, name), name).toBeUndefined();
    }
    expect(await listReports(join(dir, "missing"))).toEqual([]);
  });

  it("writes a report for a period without data and rejects impossible dates", async () => {
    const db = env.ctx.database.db;
    const empty = join(env.dataDir, "empty");
    const path = await writeDailyReport(db, { day: "2026-11-15", dir: empty });
    const workbook = await readWorkbook(path);
    expect(workbook.getWorksheet("VMs")?.rowCount).toBe(1);
    expect(await zipParts(path)).toContain("xl/charts/chart1.xml");
    expect(readFileSync(join(empty, "vctp-daily-2026-11-15.csv"), "utf8").split("\r\n")).toHaveLength(2);
    await expect(writeDailyReport(db, { day: "2026-02-30", dir: empty })).rejects.toThrow(/does not exist/);
    await expect(writeMonthlyReport(db, { month: "2026-13", dir: empty })).rejects.toThrow(/YYYY-MM/);
  });

  it("opens in LibreOffice with the sheets' content and the charts rendered", { timeout: 90_000 }, async () => {
    await requireTool("soffice", "libreoffice-calc");
    await requireTool("pdftotext", "poppler-utils");
    const out = join(env.dataDir, "pdf");
    const profile = `/tmp/lo-${randomBytes(6).toString("hex")}`;
    try {
      await run(
        "soffice",
        [
          `-env:UserInstallation=file://${profile}`,
          "--headless",
          "--convert-to",
          "pdf",
          "--outdir",
          out,
          hourly,
          daily,
          monthly,
        ],
        { timeout: 80_000 },
      );
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
    const text = async (report: string) => {
      const pdf = join(out, report.replace(/^.*\//, "").replace(/\.xlsx$/, ".pdf"));
      return (await run("pdftotext", ["-layout", pdf, "-"])).stdout;
    };
    const hourlyText = await text(hourly);
    expect(hourlyText).toContain("db-01");
    expect(hourlyText).toContain("Tin");
    expect(hourlyText).toContain("VMs and vCPUs per hour");
    const dailyText = await text(daily);
    expect(dailyText).toContain("batch-01");
    expect(dailyText).toContain("2026-10-31 to 2026-11-01");
    const monthlyText = await text(monthly);
    expect(monthlyText).toContain("2026-10-30 to 2026-10-31");
    expect(monthlyText).toContain("erp-01");
    expect(monthlyText).toContain("Tin");
    // Chart titles and legends are drawn as text, so their presence shows the charts were rendered.
    expect(monthlyText).toContain("Chargeback tiers per vCenter");
    expect(monthlyText).toContain("VMs and vCPUs per day");

    const artifacts = join(import.meta.dirname, "..", "artifacts");
    mkdirSync(artifacts, { recursive: true });
    await run("pdftoppm", [
      "-png",
      "-r",
      "60",
      "-f",
      "1",
      "-l",
      "1",
      "-singlefile",
      join(out, "vctp-monthly-2026-10.pdf"),
      join(artifacts, "report-monthly"),
    ]);
  });
});

describe("CSV export", () => {
  it("defuses spreadsheet formulas in text fields and keeps numbers as they are", () => {
    const csv = toCsv({
      columns: [{ header: "Name" }, { header: "Vcpu" }],
      rows: [
        ['=HYPERLINK("http://x")', -2],
        ["+sum", 3],
        ["@cmd", 4],
        ["-x", 5],
        ["plain", 6],
      ],
    } as never);
    expect(csv.split("\r\n")).toEqual([
      "Name,Vcpu",
      `"'=HYPERLINK(""http://x"")",-2`,
      "'+sum,3",
      "'@cmd,4",
      "'-x,5",
      "plain,6",
      "",
    ]);
  });
});

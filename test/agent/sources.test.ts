import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { osExporter } from "../../src/agent/exporters/os.js";
import { fileSource } from "../../src/agent/logs/file.js";
import { parseDiskstats, parseMounts, parseNetDev } from "../../src/agent/parsers/procfs.js";
import { tempDir } from "./helpers.js";

const fixture = (name: string) => new URL(`fixtures/${name}`, import.meta.url).pathname;

describe("procfs parsers", () => {
  it("keeps whole disks only", () => {
    const text = (name: string) => readFileSync(fixture(name), "utf8");
    expect(parseDiskstats(text("diskstats.txt"))).toEqual([
      { device: "nvme0n1", read: 390128816 * 512, written: 1204412264 * 512 },
      { device: "sda", read: 81021336 * 512, written: 33981120 * 512 },
    ]);
    expect(parseNetDev(text("net-dev.txt")).map((n) => n.iface)).toEqual(["enp65s0f0", "enp65s0f1", "wg0"]);
    expect(parseNetDev(text("net-dev.txt"))[0]).toEqual({ iface: "enp65s0f0", rx: 98123440112, tx: 12044102311 });
    expect(parseMounts(text("mounts.txt"))).toEqual(["/", "/boot/efi", "/srv/data store"]);
  });
});

describe("os exporter on captured /proc files", () => {
  const dir = tempDir("fleetledger-proc-");
  afterAll(() => dir.remove());

  it("reports memory, CPU usage between two samples, disks and interfaces", async () => {
    const proc = dir.dir;
    mkdirSync(join(proc, "net"));
    mkdirSync(join(proc, "self"));
    copyFileSync(fixture("proc-stat.txt"), join(proc, "stat"));
    copyFileSync(fixture("meminfo.txt"), join(proc, "meminfo"));
    copyFileSync(fixture("diskstats.txt"), join(proc, "diskstats"));
    copyFileSync(fixture("net-dev.txt"), join(proc, "net/dev"));
    writeFileSync(join(proc, "self/mounts"), "");
    const exporter = osExporter({ proc });
    expect(await exporter.probe()).toEqual({ ok: true });
    // 1000 more jiffies, 250 of them idle → 75 % busy.
    writeFileSync(join(proc, "stat"), "cpu  2255841 3042 582012 60325231 40211 0 18342 0 0 0\n");
    const { metrics } = await exporter.collect(1714644933);
    const value = (name: string, labels?: Record<string, string>) =>
      metrics.find((m) => m.metric_name === name && JSON.stringify(m.labels) === JSON.stringify(labels ?? null))?.value;
    expect(value("cpu_usage_percent")).toBeCloseTo(75, 10);
    expect(value("memory_total_bytes")).toBe(65768412 * 1024);
    expect(value("memory_available_bytes")).toBe(41203876 * 1024);
    expect(value("memory_used_bytes")).toBe((65768412 - 41203876) * 1024);
    expect(value("memory_usage_percent")).toBeCloseTo(((65768412 - 41203876) / 65768412) * 100, 10);
    expect(value("disk_read_bytes_total", { device: "nvme0n1" })).toBe(390128816 * 512);
    expect(value("network_transmit_bytes_total", { interface: "enp65s0f0" })).toBe(12044102311);
    expect(metrics.some((m) => m.labels?.interface === "lo" || m.labels?.interface === "docker0")).toBe(false);
  });

  it("disables itself when /proc/stat cannot be read", async () => {
    expect(await osExporter({ proc: join(dir.dir, "none") }).probe()).toMatchObject({ ok: false });
  });
});

describe("file log source", () => {
  const dir = tempDir("fleetledger-file-");
  afterAll(() => dir.remove());

  it("follows by offset, waits for a partial line, restarts at 0 after rotation", async () => {
    const path = join(dir.dir, "app.log");
    writeFileSync(path, "one\ntwo\nthr");
    const source = fileSource("file:app", path, () => new Date(2024, 4, 2, 12));
    const first = await source.read(undefined, 10);
    expect(first.logs.map((l) => l.content)).toEqual(["one", "two"]);
    expect(JSON.parse(first.cursor as string).offset).toBe(8);
    appendFileSync(path, "ee\n");
    const second = await source.read(first.cursor, 10);
    expect(second.logs.map((l) => l.content)).toEqual(["three"]);
    renameSync(path, `${path}.1`);
    writeFileSync(path, "after rotation\n");
    const third = await source.read(second.cursor, 10);
    expect(third.logs.map((l) => l.content)).toEqual(["after rotation"]);
    // Truncated in place (copytruncate): shorter than the offset → from the start.
    writeFileSync(path, "x\n");
    expect((await source.read(third.cursor, 10)).logs.map((l) => l.content)).toEqual(["x"]);
  });

  it("takes at most the limit, starts a new file near its end, and uses syslog times when present", async () => {
    const path = join(dir.dir, "syslog");
    writeFileSync(
      path,
      `${"filler line\n".repeat(10_000)}May  2 10:15:32 gpu-node-07 dockerd[1093]: level=warning msg=slow\n`,
    );
    const source = fileSource("syslog", path, () => new Date(2024, 4, 2, 12));
    const first = await source.read(undefined, 100_000);
    // 64 KiB back from the end, minus the partial line there.
    expect(first.logs.length).toBeLessThan(5600);
    expect(first.logs.at(-1)).toEqual({
      log_source: "syslog",
      log_timestamp: new Date(2024, 4, 2, 10, 15, 32).getTime() / 1000,
      content: "May  2 10:15:32 gpu-node-07 dockerd[1093]: level=warning msg=slow",
      severity: "WARN",
    });
    const limited = await source.read(JSON.stringify({ inode: -1, offset: 0 }), 3);
    expect(limited.logs.map((l) => l.content)).toEqual(["filler line", "filler line", "filler line"]);
    expect(JSON.parse(limited.cursor as string).offset).toBe(36);
  });

  it("is disabled when the file does not exist", async () => {
    expect(await fileSource("file:none", join(dir.dir, "none.log")).probe()).toEqual({
      ok: false,
      reason: `${join(dir.dir, "none.log")} does not exist`,
    });
  });
});

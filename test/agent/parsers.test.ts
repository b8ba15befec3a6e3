import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { demultiplex, looksMultiplexed } from "../../src/agent/parsers/docker-log-frames.js";
import { containerCpuPercent, containerMemoryBytes, type DockerStats } from "../../src/agent/parsers/docker-stats.js";
import { parseDmesg } from "../../src/agent/parsers/dmesg.js";
import { parseIpmiSensor } from "../../src/agent/parsers/ipmi-sensor.js";
import { parseJournal } from "../../src/agent/parsers/journal.js";
import { parseNvidiaSmi } from "../../src/agent/parsers/nvidia-smi.js";
import { parseNvmeSmartLog } from "../../src/agent/parsers/nvme-smart-log.js";
import { guessSeverity, severityOfPriority } from "../../src/agent/parsers/severity.js";
import { syslogTimestamp } from "../../src/agent/parsers/syslog-line.js";

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url));
const text = (name: string) => fixture(name).toString("utf8");
const T = 1714644933;

describe("ipmitool sensor", () => {
  it("maps analog sensors by unit and skips na readings and discrete sensors", () => {
    const rows = parseIpmiSensor(text("ipmitool-sensor.txt"), T);
    expect(rows.map((r) => [r.metric_name, r.labels?.sensor, r.value])).toEqual([
      ["ipmi_temp_celsius", "CPU1 Temp", 47],
      ["ipmi_temp_celsius", "System Temp", 31],
      ["ipmi_temp_celsius", "Peripheral Temp", 38],
      ["ipmi_fan_rpm", "FAN1", 3500],
      ["ipmi_fan_rpm", "FANA", 1400],
      ["ipmi_voltage_volts", "12V", 12.19],
      ["ipmi_voltage_volts", "5VCC", 5.026],
      ["ipmi_power_watts", "PS1 Input Power", 168],
    ]);
    expect(rows.every((r) => r.timestamp === T)).toBe(true);
  });

  it("yields nothing for output that is not a sensor table", () => {
    expect(parseIpmiSensor("Could not open device at /dev/ipmi0: No such file or directory\n", T)).toEqual([]);
  });
});

describe("nvidia-smi", () => {
  const rows = parseNvidiaSmi(text("nvidia-smi.csv"), T);
  const of = (bus: string) =>
    Object.fromEntries(rows.filter((r) => r.labels?.bus_id === bus).map((r) => [r.metric_name, r.value]));

  it("reads every field of each GPU with dcmon's labels", () => {
    expect(of("01:00.0")).toEqual({
      gpu_temperature: 64,
      gpu_power_draw: 287.54,
      gpu_power_limit: 450,
      gpu_utilization_gpu: 97,
      gpu_utilization_memory: 41,
      gpu_fan_speed: 68,
      gpu_clock_sm: 2745,
      gpu_clock_mem: 10501,
      gpu_memory_usage: 82.69,
    });
    expect(rows.find((r) => r.labels?.bus_id === "01:00.0")?.labels).toEqual({ model: "RTX 4090", bus_id: "01:00.0" });
  });

  it("skips [N/A] fields instead of reporting zero", () => {
    expect(of("41:00.0")).toEqual({
      gpu_temperature: 33,
      gpu_utilization_gpu: 0,
      gpu_utilization_memory: 0,
      gpu_clock_sm: 210,
      gpu_clock_mem: 405,
      gpu_memory_usage: 0,
    });
    expect(rows.find((r) => r.labels?.bus_id === "41:00.0")?.labels?.model).toBe("80GB PCIe");
  });

  it("ignores short and empty lines", () => {
    expect(parseNvidiaSmi("No devices were found\n\n", T)).toEqual([]);
  });
});

describe("nvme smart-log", () => {
  const labels = { device: "/dev/nvme0", model: "Samsung SSD 980 PRO 2TB" };
  const values = (name: string) =>
    Object.fromEntries(parseNvmeSmartLog(text(name), T, labels).map((r) => [r.metric_name, r.value]));

  it("reads nvme-cli 1.x output, Kelvin to Celsius, data units to bytes", () => {
    expect(values("nvme-smart-log-v1.json")).toEqual({
      nvme_temperature_celsius: 37,
      nvme_percentage_used: 3,
      nvme_available_spare_percent: 100,
      nvme_critical_warning: 0,
      nvme_media_errors_total: 0,
      nvme_error_log_entries_total: 112,
      nvme_power_on_hours_total: 14027,
      nvme_power_cycles_total: 87,
      nvme_unsafe_shutdowns_total: 41,
      nvme_data_units_read_bytes_total: 31842211 * 512_000,
      nvme_data_units_written_bytes_total: 45619804 * 512_000,
    });
  });

  it("reads nvme-cli 2.x output with grouped numbers, objects and a temperature string", () => {
    const v = values("nvme-smart-log-v2.json");
    expect(v.nvme_temperature_celsius).toBe(45);
    expect(v.nvme_critical_warning).toBe(0);
    expect(v.nvme_media_errors_total).toBe(2);
    expect(v.nvme_power_on_hours_total).toBe(21880);
    expect(v.nvme_data_units_read_bytes_total).toBe(1_204_019_339 * 512_000);
  });

  it("labels every row with device and model", () => {
    expect(
      parseNvmeSmartLog(text("nvme-smart-log-v1.json"), T, labels).every((r) => r.labels?.model === labels.model),
    ).toBe(true);
  });

  it("throws a clear error for output that is not a JSON object", () => {
    expect(() => parseNvmeSmartLog("[]", T, labels)).toThrow("smart-log is not a JSON object");
    expect(() => parseNvmeSmartLog("NVMe status: INVALID_FIELD", T, labels)).toThrow(SyntaxError);
  });
});

describe("docker stats", () => {
  const stats = (name: string) => JSON.parse(text(name)) as DockerStats;

  it("computes CPU % as docker stats does: cgroup v2 with online_cpus", () => {
    expect(containerCpuPercent(stats("docker-stats-cgroup2.json"))).toBeCloseTo(20, 10);
  });

  it("falls back to the per-CPU array length on cgroup v1 daemons without online_cpus", () => {
    expect(containerCpuPercent(stats("docker-stats-cgroup1.json"))).toBeCloseTo(100, 10);
  });

  it("subtracts inactive_file (v2) and total_inactive_file (v1) from usage", () => {
    expect(containerMemoryBytes(stats("docker-stats-cgroup2.json"))).toBe(314572800 - 62914560);
    expect(containerMemoryBytes(stats("docker-stats-cgroup1.json"))).toBe(52428800 - 16777216);
  });

  it("has no CPU figure without a previous sample, and 0 when the system counter did not move", () => {
    const s = stats("docker-stats-cgroup2.json");
    expect(containerCpuPercent({ ...s, precpu_stats: {} })).toBeUndefined();
    expect(containerCpuPercent({ ...s, precpu_stats: s.cpu_stats })).toBe(0);
    expect(containerMemoryBytes({})).toBeUndefined();
  });
});

describe("docker log frames", () => {
  it("demultiplexes stdout and stderr frames", () => {
    const body = fixture("docker-logs-multiplexed.bin");
    expect(looksMultiplexed(body)).toBe(true);
    expect(demultiplex(body)).toEqual([
      { stream: "stdout", text: "2024-05-02T10:15:30.000000001Z worker started, pid 7\n" },
      { stream: "stderr", text: "2024-05-02T10:15:31.250000000Z WARNING: queue depth 812 over 500\n" },
      { stream: "stdout", text: "2024-05-02T10:15:32.999999999Z job 44 done in 1.2s\n" },
      { stream: "stderr", text: "2024-05-02T10:15:33.5Z Traceback (most recent call last):\n" },
    ]);
  });

  it("drops a truncated last frame and recognises raw TTY bodies", () => {
    const body = fixture("docker-logs-multiplexed.bin");
    expect(demultiplex(body.subarray(0, body.length - 3))).toHaveLength(3);
    expect(looksMultiplexed(Buffer.from("2024-05-02T10:15:30.000000001Z hello\n"))).toBe(false);
  });
});

describe("journal", () => {
  it("maps PRIORITY to severity, prefixes the identifier and decodes byte-array messages", () => {
    const { logs, cursor } = parseJournal(text("journal.jsonl"), 100);
    expect(logs.map((l) => [l.severity, l.content])).toEqual([
      ["INFO", "systemd[1]: Started session-42.scope - Session 42 of User root."],
      ["ERROR", "sshd[88412]: error: kex_exchange_identification: Connection closed by remote host"],
      ["WARN", "kernel: nvidia-nvswitch: Probing device 0000:41:00.0 failed; retrying"],
      ["INFO", `dockerd[1093]: time="2024" \uFFFD\uFFFDok`],
      ["DEBUG", `containerd[1010]: loading plugin "io.containerd.snapshotter.v1.overlayfs"...`],
    ]);
    expect(logs[0]?.log_timestamp).toBe(1714644932.123456);
    // The last entry has no MESSAGE: it is not sent but the cursor passes it.
    expect(cursor).toContain("i=1a2b8");
  });

  it("stops at the limit with the cursor on the last entry taken", () => {
    const { logs, cursor } = parseJournal(text("journal.jsonl"), 2);
    expect(logs).toHaveLength(2);
    expect(cursor).toContain("i=1a2b4");
  });

  it("skips lines that are not JSON entries", () => {
    expect(parseJournal("-- No entries --\n{broken\n", 10)).toEqual({ logs: [], cursor: undefined });
  });
});

describe("dmesg", () => {
  it("reads level, ISO time with microseconds and joins continuation lines", () => {
    const { logs, cursor } = parseDmesg(text("dmesg-iso.txt"), undefined, 100);
    expect(logs.map((l) => l.severity)).toEqual(["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG", "ERROR", "INFO"]);
    expect(logs[4]).toEqual({
      log_source: "dmesg",
      log_timestamp: 1714644932.123456,
      content: "NVRM: Xid (PCI:0000:41:00): 79, pid=2231, GPU has fallen off the bus.",
      severity: "ERROR",
    });
    expect(logs[6]?.content).toBe(
      "mce: [Hardware Error]: Machine check events logged\n[Hardware Error]: CPU 3: Machine Check: 0 Bank 5: be00000000800400",
    );
    expect(cursor).toBe("1714644962999999");
  });

  it("returns only records after the cursor, a microsecond apart included", () => {
    const { logs, cursor } = parseDmesg(text("dmesg-iso.txt"), "1714644932123456", 2);
    expect(logs.map((l) => l.content.slice(0, 12))).toEqual(["usb 1-1: new", "mce: [Hardwa"]);
    expect(cursor).toBe("1714644961000100");
    expect(parseDmesg(text("dmesg-iso.txt"), "1714644962999999", 10)).toEqual({ logs: [], cursor: "1714644962999999" });
  });
});

describe("severity", () => {
  it("guesses from keywords, errors first, and leaves plain lines without a level", () => {
    expect(guessSeverity("Health check for container 4b1c failed")).toBe("ERROR");
    expect(guessSeverity("level=warning msg=slow")).toBe("WARN");
    expect(guessSeverity("WARNING: disk failure predicted")).toBe("ERROR");
    expect(guessSeverity("debug: polling")).toBe("DEBUG");
    expect(guessSeverity("Started Daily apt download activities")).toBeNull();
    expect(guessSeverity("terrorism is not an error word match")).toBe("ERROR");
    expect(guessSeverity("terrorism")).toBeNull();
  });

  it("maps syslog priorities", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, -1, 2.5].map(severityOfPriority)).toEqual([
      "ERROR",
      "ERROR",
      "ERROR",
      "ERROR",
      "WARN",
      "INFO",
      "INFO",
      "DEBUG",
      null,
      null,
      null,
    ]);
  });
});

describe("syslog timestamps", () => {
  const now = new Date(2024, 4, 2, 12, 0, 0);
  it("reads RFC 3339 and classic forms", () => {
    const lines = text("syslog.txt").split("\n");
    expect(syslogTimestamp(lines[0] as string, now)).toBe(1714644930.112233);
    expect(syslogTimestamp(lines[2] as string, now)).toBe(new Date(2024, 4, 2, 10, 15, 32).getTime() / 1000);
    expect(syslogTimestamp("no time here", now)).toBeUndefined();
  });

  it("puts a classic date more than a day ahead into the previous year", () => {
    const newYear = new Date(2025, 0, 1, 0, 5, 0);
    expect(syslogTimestamp("Dec 31 23:59:59 host x: y", newYear)).toBe(
      new Date(2024, 11, 31, 23, 59, 59).getTime() / 1000,
    );
  });
});

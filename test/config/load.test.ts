import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSettings, SettingsError } from "../../src/config/load.js";

function dir(yaml?: string): string {
  const d = mkdtempSync(join(tmpdir(), "fl-config-"));
  if (yaml !== undefined) writeFileSync(join(d, "fleetledger.yml"), yaml);
  return d;
}

describe("settings", () => {
  it("uses documented defaults when there is no file", () => {
    const cwd = dir();
    const s = loadSettings({ cwd, env: {} });
    expect(s.server.port).toBe(8080);
    expect(s.data_dir).toBe(join(cwd, "data"));
    expect(s.database.url).toBe("");
    expect(s.inventory.heartbeat_timeout_minutes).toBe(10);
    expect(s.inventory.differ).toEqual({ max_depth: 10, max_path_length: 500, max_diffs: 1000 });
    expect(s.config_file).toBeNull();
  });

  it("reads ./fleetledger.yml and lets FLEETLEDGER_* variables override it", () => {
    const cwd = dir("server:\n  port: 9000\ninventory:\n  heartbeat_timeout_minutes: 3\n");
    const s = loadSettings({
      cwd,
      env: {
        FLEETLEDGER_SERVER__PORT: "9100",
        FLEETLEDGER_QUEUE__MAX_ATTEMPTS: "7",
        FLEETLEDGER_WEB__REQUIRE_LOGIN: "false",
      },
    });
    expect(s.server.port).toBe(9100);
    expect(s.queue.max_attempts).toBe(7);
    expect(s.web.require_login).toBe(false);
    expect(s.inventory.heartbeat_timeout_minutes).toBe(3);
    expect(s.config_file).toBe(join(cwd, "fleetledger.yml"));
  });

  it("names an unknown key in the file", () => {
    const cwd = dir("server:\n  prot: 9000\n");
    expect(() => loadSettings({ cwd, env: {} })).toThrowError(/unknown setting "server\.prot"/);
  });

  it("names a key with the wrong type and where it came from", () => {
    const cwd = dir();
    expect(() => loadSettings({ cwd, env: { FLEETLEDGER_SERVER__PORT: "eighty" } })).toThrowError(
      /setting "server\.port" must be integer \(environment variable FLEETLEDGER_SERVER__PORT\)/,
    );
  });

  it("rejects an environment variable that is no setting", () => {
    expect(() => loadSettings({ cwd: dir(), env: { FLEETLEDGER_SERVR__PORT: "1" } })).toThrowError(
      /FLEETLEDGER_SERVR__PORT: there is no setting servr\.port/,
    );
  });

  it("ignores the test database variable and honours --data-dir over everything", () => {
    const cwd = dir("data_dir: /tmp/from-file\n");
    const s = loadSettings({ cwd, env: { FLEETLEDGER_TEST_DATABASE_URL: "postgres://x" }, dataDir: "mine" });
    expect(s.data_dir).toBe(join(cwd, "mine"));
  });

  it("rejects a missing explicit file, broken YAML and a bad cron expression", () => {
    expect(() => loadSettings({ cwd: dir(), env: {}, configPath: "nope.yml" })).toThrowError(SettingsError);
    expect(() => loadSettings({ cwd: dir("server: [1,\n"), env: {} })).toThrowError(/not valid YAML/);
    expect(() => loadSettings({ cwd: dir('inventory:\n  retention_cron: "every hour"\n'), env: {} })).toThrowError(
      /inventory\.retention_cron/,
    );
  });

  it("accepts rule tables in the file", () => {
    const cwd = dir(
      "inventory:\n  categories:\n    - name: apps\n      patterns: ['^apps']\n  array_identity:\n    - path: apps\n      key: name\n",
    );
    const s = loadSettings({ cwd, env: {} });
    expect(s.inventory.categories).toEqual([{ name: "apps", patterns: ["^apps"] }]);
    expect(s.inventory.array_identity).toEqual([{ path: "apps", key: "name" }]);
  });
});

describe("docs/configuration.md", () => {
  it("carries the reference generated from the schema, so every key and default is documented", async () => {
    const { readFileSync } = await import("node:fs");
    const { settingsReference } = await import("../../src/config/docs.js");
    const page = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
    const reference = settingsReference();
    // Regenerate with: npx fleetledger config reference
    expect(page.slice(-reference.length)).toBe(reference);
  });
});

describe("vCTP settings block", () => {
  it("maps vCTP's general keys onto Fleetledger's and keeps its defaults", () => {
    const cwd = dir(
      "settings:\n  database_driver: sqlite\n  database_url: ./db.sqlite3\n  bind_ip: 127.0.0.1\n  bind_port: 9443\n  log_level: WARN\n  vcenter_addresses: [https://vc/sdk]\n",
    );
    const s = loadSettings({ cwd, env: {} });
    expect(s.database.url).toBe("sqlite:./db.sqlite3");
    expect(s.server).toMatchObject({ host: "127.0.0.1", port: 9443 });
    expect(s.log.level).toBe("warn");
    expect(s.settings).toMatchObject({
      vcenter_addresses: ["https://vc/sdk"],
      vcenter_inventory_snapshot_seconds: 3600,
      hourly_snapshot_concurrency: 0,
      hourly_snapshot_max_age_days: 60,
      daily_snapshot_max_age_months: 12,
      hourly_snapshot_retry_seconds: 300,
      hourly_snapshot_max_retries: 3,
      enable_legacy_api: false,
      tenants_to_filter: [],
    });
  });

  it("names what is missing for HTTPS and rejects a bad log level", () => {
    expect(() => loadSettings({ cwd: dir("settings:\n  bind_disable_tls: false\n"), env: {} })).toThrowError(
      /tls_cert_filename/,
    );
    expect(() => loadSettings({ cwd: dir("settings:\n  log_level: loud\n"), env: {} })).toThrowError(
      /settings\.log_level/,
    );
    expect(() => loadSettings({ cwd: dir("settings:\n  snapshot_cleanup_cron: nope\n"), env: {} })).toThrowError(
      /settings\.snapshot_cleanup_cron/,
    );
  });
});

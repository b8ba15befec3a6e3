import { Cron } from "croner";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { TSchema } from "typebox";
import Value from "typebox/value";
import YAML from "yaml";
import { type Settings, SettingsSchema } from "./schema.js";

export class SettingsError extends Error {
  override name = "SettingsError";
}

export interface LoadOptions {
  /** Explicit settings file; when absent `./fleetledger.yml` is used if it exists. */
  configPath?: string | undefined;
  /** `--data-dir` from the command line; wins over file and environment. */
  dataDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export const ENV_PREFIX = "FLEETLEDGER_";
// Variables with our prefix that are not settings: the settings file location and the test suite's database.
const NON_SETTING_ENV = new Set(["FLEETLEDGER_CONFIG", "FLEETLEDGER_TEST_DATABASE_URL"]);

export function loadSettings(options: LoadOptions = {}): Settings & { config_file: string | null } {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.configPath ?? env.FLEETLEDGER_CONFIG;
  let file: string | null = null;
  let raw: Record<string, unknown> = {};
  if (explicit) {
    file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new SettingsError(`settings file ${file} does not exist`);
  } else if (existsSync(resolve(cwd, "fleetledger.yml"))) {
    file = resolve(cwd, "fleetledger.yml");
  }
  if (file) raw = parseYamlFile(file);

  const sources = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || NON_SETTING_ENV.has(name) || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split("__");
    const schema = schemaAt(SettingsSchema, path);
    if (!schema) throw new SettingsError(`environment variable ${name}: there is no setting ${path.join(".")}`);
    setAt(raw, path, fromEnv(name, value, schema));
    sources.set(`/${path.join("/")}`, `environment variable ${name}`);
  }
  if (options.dataDir !== undefined) {
    raw.data_dir = options.dataDir;
    sources.set("/data_dir", "--data-dir");
  }

  Value.Default(SettingsSchema, raw);
  const problems: string[] = [];
  for (const error of Value.Errors(SettingsSchema, raw)) {
    if (error.keyword === "additionalProperties") continue; // reported per key by the "boolean" error below
    const key = error.instancePath.slice(1).replaceAll("/", ".");
    const where = sources.get(error.instancePath) ?? (file ? `in ${file}` : "default");
    if (error.keyword === "boolean" && error.schemaPath.endsWith("additionalProperties")) {
      problems.push(`unknown setting "${key}" (${where})`);
    } else {
      problems.push(`setting "${key || "(root)"}" ${error.message} (${where})`);
    }
  }
  if (problems.length > 0) {
    throw new SettingsError(`invalid settings:\n  - ${[...new Set(problems)].join("\n  - ")}`);
  }
  const settings = applyVctpAliases(raw as Settings);
  for (const [key, pattern] of [
    ["inventory.retention_cron", settings.inventory.retention_cron],
    ["settings.snapshot_cleanup_cron", settings.settings.snapshot_cleanup_cron],
  ] as const) {
    try {
      new Cron(pattern, { paused: true }).stop();
    } catch (err) {
      throw new SettingsError(`setting "${key}" is not a cron expression: ${(err as Error).message}`);
    }
  }
  return { ...settings, data_dir: resolve(cwd, settings.data_dir), config_file: file };
}

function parseYamlFile(file: string): Record<string, unknown> {
  const doc = YAML.parseDocument(readFileSync(file, "utf8"), { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SettingsError(`settings file ${file} is not valid YAML: ${doc.errors[0]?.message}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SettingsError(`settings file ${file} must hold a mapping of settings at its top level`);
  }
  return value as Record<string, unknown>;
}

function schemaAt(schema: TSchema, path: string[]): TSchema | undefined {
  let current: TSchema | undefined = schema;
  for (const part of path) {
    const properties: Record<string, TSchema> | undefined = (
      current as { properties?: Record<string, TSchema> } | undefined
    )?.properties;
    current = properties?.[part];
    if (!current) return undefined;
  }
  return current;
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function fromEnv(name: string, value: string, schema: TSchema): unknown {
  const type = (schema as { type?: string }).type;
  if (type === "integer" || type === "number") {
    const n = Number(value);
    return value.trim() === "" || Number.isNaN(n) ? value : n;
  }
  if (type === "boolean") {
    if (/^(true|1|yes|on)$/i.test(value)) return true;
    if (/^(false|0|no|off)$/i.test(value)) return false;
    return value;
  }
  if (type === "array" || type === "object") {
    try {
      return JSON.parse(value);
    } catch {
      throw new SettingsError(`environment variable ${name} must hold JSON for this setting`);
    }
  }
  return value;
}

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/**
 * vCTP's general keys under `settings:` stand for Fleetledger's own when set, so a pasted vctp.yml block keeps its
 * database, address and log level.
 */
function applyVctpAliases(settings: Settings): Settings {
  const v = settings.settings;
  if (v.database_url !== "") {
    settings.database.url =
      v.database_driver === "sqlite" && !v.database_url.startsWith("sqlite:")
        ? `sqlite:${v.database_url}`
        : v.database_url;
  }
  if (v.bind_ip !== "") settings.server.host = v.bind_ip;
  if (v.bind_port !== 0) settings.server.port = v.bind_port;
  if (v.log_level !== "") {
    const level = v.log_level.toLowerCase();
    if (!LOG_LEVELS.has(level)) {
      throw new SettingsError(
        `setting "settings.log_level" must be one of ${[...LOG_LEVELS].join(", ")} (got "${v.log_level}")`,
      );
    }
    settings.log.level = level as Settings["log"]["level"];
  }
  if (!v.bind_disable_tls && (v.tls_cert_filename === "" || v.tls_key_filename === "")) {
    throw new SettingsError(
      "settings.bind_disable_tls is false: set settings.tls_cert_filename and settings.tls_key_filename to serve HTTPS",
    );
  }
  return settings;
}

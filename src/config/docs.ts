import type { TSchema } from "typebox";
import { SettingsSchema } from "./schema.js";

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

function typeName(schema: TSchema): string {
  const s = schema as { type?: string; anyOf?: TSchema[]; const?: unknown; items?: TSchema };
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(typeName).join(" \\| ");
  if (s.type === "array") return "list";
  return s.type ?? "any";
}

function walk(schema: TSchema, prefix: string, rows: Row[]): void {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  for (const [name, child] of Object.entries(properties)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const c = child as { type?: string; default?: unknown; description?: string };
    if (c.type === "object" && (child as { properties?: unknown }).properties) {
      walk(child, key, rows);
      continue;
    }
    rows.push({
      key,
      type: typeName(child),
      default: c.default === undefined ? "(built-in table)" : `\`${JSON.stringify(c.default)}\``,
      description: c.description ?? "",
    });
  }
}

/** The settings reference in Markdown, generated from the schema so it cannot drift from the code. */
export function settingsReference(): string {
  const rows: Row[] = [];
  walk(SettingsSchema, "", rows);
  const envName = (key: string) => `FLEETLEDGER_${key.toUpperCase().replaceAll(".", "__")}`;
  const lines = [
    "| key | environment variable | type | default | meaning |",
    "|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| \`${r.key}\` | \`${envName(r.key)}\` | ${r.type} | ${r.default} | ${r.description.replaceAll("|", "\\|")} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

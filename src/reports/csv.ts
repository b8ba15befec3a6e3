import type { CellValue, Table } from "./xlsx.js";

/** RFC 4180: CRLF line ends; fields with a comma, quote or line break quoted, quotes doubled. */
export function toCsv(table: Pick<Table, "columns" | "rows">): string {
  const lines = [table.columns.map((c) => c.header), ...table.rows.map((r) => r.map(csvText))];
  return lines
    .map((fields) => fields.map(csvField).join(","))
    .join("\r\n")
    .concat("\r\n");
}

function csvText(value: CellValue): string {
  if (value === null) return "";
  if (value instanceof Date) return `${value.toISOString().slice(0, 19)}Z`;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") return String(value);
  // Names come from vCenter and Cloud Foundry users: a leading = + - @ would run as a formula when the CSV is opened
  // in a spreadsheet, so such text gets a leading apostrophe (OWASP's CSV injection advice).
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

import { toCsv } from "../reports/csv.js";
import { buildWorkbook, type CellValue, type Column } from "../reports/xlsx.js";
import type { Bill } from "./billing.js";

const COLUMNS: Column[] = [
  { header: "Month" },
  { header: "Organization" },
  { header: "Org GUID" },
  { header: "Space" },
  { header: "Space GUID" },
  { header: "Plan" },
  { header: "Plan GUID" },
  { header: "Resource type" },
  { header: "Resources" },
  { header: "Ex VAT", format: "#,##0.00" },
  { header: "Inc VAT", format: "#,##0.00" },
  { header: "Currency" },
];

/** One row per bill line; amounts stay exact in CSV and become numbers in XLSX. */
function lineRows(bill: Bill, numeric: boolean): CellValue[][] {
  const amount = (value: string) => (numeric ? Number(value) : value);
  return bill.orgs.flatMap((org) =>
    org.spaces.flatMap((space) =>
      space.lines.map((line) => [
        bill.month,
        org.org_name,
        org.org_guid,
        space.space_name,
        space.space_guid,
        line.plan_name,
        line.plan_guid,
        line.resource_type,
        line.resources,
        amount(line.ex_vat),
        amount(line.inc_vat),
        bill.currency,
      ]),
    ),
  );
}

export function billCsv(bill: Bill): string {
  return toCsv({ columns: COLUMNS, rows: lineRows(bill, false) });
}

/** The bill as a workbook: a Lines sheet and an Organizations sheet with each org's (rounded) totals. */
export async function billXlsx(bill: Bill): Promise<Buffer> {
  const orgRows: CellValue[][] = bill.orgs.map((o) => [
    o.org_name,
    o.org_guid,
    Number(o.ex_vat),
    Number(o.inc_vat),
    o.revision ?? null,
  ]);
  orgRows.push(["Total", "", Number(bill.totals.ex_vat), Number(bill.totals.inc_vat), null]);
  return buildWorkbook([
    {
      name: "Organizations",
      tables: [
        {
          row: 0,
          col: 0,
          columns: [
            { header: "Organization" },
            { header: "Org GUID" },
            { header: `Ex VAT (${bill.currency})`, format: "#,##0.00" },
            { header: `Inc VAT (${bill.currency})`, format: "#,##0.00" },
            { header: "Revision" },
          ],
          rows: orgRows,
        },
      ],
    },
    { name: "Lines", tables: [{ row: 0, col: 0, columns: COLUMNS, rows: lineRows(bill, true) }] },
  ]);
}

import type ExcelJS from "exceljs";
import type JSZip from "jszip";

/**
 * Workbooks as tables and charts. exceljs writes the cells (it has no chart support); the native charts are then
 * added to its zip as DrawingML parts: per charted sheet one `xl/drawings/drawingN.xml` holding a graphic frame per
 * chart, each pointing at an `xl/charts/chartN.xml`, wired up through the sheet's and the drawing's relationships
 * and `[Content_Types].xml`. Chart XML follows the schema's element order (Excel rejects out-of-order elements
 * where LibreOffice forgives them) and carries cached values, so viewers that do not recalculate still draw it.
 */

export type CellValue = string | number | boolean | Date | null;

export interface Column {
  header: string;
  /** Excel number format of the column's values; Date cells default to ISO 8601. */
  format?: string;
}

export interface Table {
  /** Zero-based cell of the header's first column. */
  row: number;
  col: number;
  columns: Column[];
  rows: CellValue[][];
}

export interface Chart {
  kind: "line" | "column";
  title: string;
  /** Index into the sheet's tables of the table the chart plots. */
  table: number;
  /** Column (index into the table's columns) whose values label the categories. */
  categories: number;
  /** Columns plotted, one series each, named by their header. */
  series: number[];
  /** Series colours as RRGGBB, in series order; a default palette otherwise. */
  colors?: string[];
  /** Zero-based cell of the chart's top-left corner. */
  row: number;
  col: number;
}

export interface Sheet {
  name: string;
  tables: Table[];
  charts?: Chart[];
  /** Print scaled to one page wide, so a chart beside the table lands on the same page. */
  fitToWidth?: boolean;
}

const ISO_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss";

const CHART_WIDTH_EMU = 6_400_000;
const CHART_HEIGHT_EMU = 3_400_000;
// 15 pt default rows at 12 700 EMU per point: the rows a chart covers, for placing content below it.
export const CHART_ROWS = Math.ceil(CHART_HEIGHT_EMU / (15 * 12_700));

const PALETTE = ["4472C4", "ED7D31", "70AD47", "FFC000", "5B9BD5", "A5A5A5", "7030A0", "C00000"];

const NS = {
  chart: "http://schemas.openxmlformats.org/drawingml/2006/chart",
  main: "http://schemas.openxmlformats.org/drawingml/2006/main",
  sheetDrawing: "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
  rel: "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
  pkgRel: "http://schemas.openxmlformats.org/package/2006/relationships",
};
const REL_TYPE = { chart: `${NS.rel}/chart`, drawing: `${NS.rel}/drawing`, worksheet: `${NS.rel}/worksheet` };
const CONTENT_TYPE = {
  chart: "application/vnd.openxmlformats-officedocument.drawingml.chart+xml",
  drawing: "application/vnd.openxmlformats-officedocument.drawing+xml",
};
const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

// exceljs and jszip add about 40 MB to a process that never writes a workbook, so they load on first use.
export async function buildWorkbook(sheets: readonly Sheet[]): Promise<Buffer> {
  const { default: Excel } = await import("exceljs");
  const workbook = new Excel.Workbook();
  for (const sheet of sheets) writeCells(workbook, sheet);
  const cells = await workbook.xlsx.writeBuffer();
  return sheets.some((s) => s.charts?.length) ? addCharts(cells, sheets) : Buffer.from(cells);
}

function writeCells(workbook: ExcelJS.Workbook, sheet: Sheet): void {
  const ws = workbook.addWorksheet(sheet.name, {
    views: [{ state: "frozen", ySplit: 1, xSplit: 0 }],
    pageSetup: sheet.fitToWidth
      ? { orientation: "landscape", fitToPage: true, fitToWidth: 1, fitToHeight: 0 }
      : { orientation: "landscape" },
  });
  const widths: number[] = [];
  const widen = (col: number, chars: number) => {
    widths[col] = Math.max(widths[col] ?? 0, chars);
  };
  for (const table of sheet.tables) {
    table.columns.forEach((column, i) => {
      const cell = ws.getCell(table.row + 1, table.col + i + 1);
      cell.value = column.header;
      cell.font = { bold: true };
      widen(table.col + i, column.header.length + 4);
    });
    table.rows.forEach((values, r) => {
      values.forEach((value, i) => {
        if (value === null) return;
        const cell = ws.getCell(table.row + r + 2, table.col + i + 1);
        cell.value = value;
        const format = table.columns[i]?.format ?? (value instanceof Date ? ISO_DATE_FORMAT : undefined);
        if (format) cell.numFmt = format;
        widen(table.col + i, displayWidth(value, format));
      });
    });
  }
  widths.forEach((chars, col) => {
    ws.getColumn(col + 1).width = Math.min(60, Math.max(8, chars));
  });
}

function displayWidth(value: Exclude<CellValue, null>, format: string | undefined): number {
  if (value instanceof Date) return ISO_DATE_FORMAT.length + 1;
  if (typeof value === "number") {
    const decimals = format?.split(".")[1]?.length ?? 0;
    const digits = Math.abs(value).toFixed(decimals || (Number.isInteger(value) ? 0 : 4));
    const integerDigits = digits.indexOf(".") < 0 ? digits.length : digits.indexOf(".");
    // Room for a sign and thousands separators.
    return digits.length + Math.floor(integerDigits / 3) + 2;
  }
  return String(value).length + 1;
}

async function addCharts(cells: ArrayBuffer, sheets: readonly Sheet[]): Promise<Buffer> {
  const { default: Zip } = await import("jszip");
  const zip = await Zip.loadAsync(cells);
  const sheetParts = await worksheetParts(zip);
  const overrides: string[] = [];
  let chartNo = 0;
  let drawingNo = 0;
  for (const sheet of sheets) {
    if (!sheet.charts?.length) continue;
    const sheetPart = sheetParts.get(sheet.name);
    if (!sheetPart) throw new Error(`worksheet part of "${sheet.name}" not found`);
    drawingNo++;
    const anchors: string[] = [];
    const chartRels: string[] = [];
    for (const [i, chart] of sheet.charts.entries()) {
      chartNo++;
      const relId = `rId${i + 1}`;
      zip.file(`xl/charts/chart${chartNo}.xml`, chartXml(sheet, chart));
      overrides.push(override(`/xl/charts/chart${chartNo}.xml`, CONTENT_TYPE.chart));
      chartRels.push(relationship(relId, REL_TYPE.chart, `../charts/chart${chartNo}.xml`));
      anchors.push(anchorXml(chart, i + 2, relId));
    }
    const drawing = `xl/drawings/drawing${drawingNo}.xml`;
    zip.file(
      drawing,
      `${XML_DECL}<xdr:wsDr xmlns:xdr="${NS.sheetDrawing}" xmlns:a="${NS.main}">${anchors.join("")}</xdr:wsDr>`,
    );
    zip.file(`xl/drawings/_rels/drawing${drawingNo}.xml.rels`, relationships(chartRels));
    overrides.push(override(`/${drawing}`, CONTENT_TYPE.drawing));
    await linkDrawing(zip, sheetPart, `../drawings/drawing${drawingNo}.xml`);
  }
  const types = await readPart(zip, "[Content_Types].xml");
  zip.file("[Content_Types].xml", types.replace("</Types>", `${overrides.join("")}</Types>`));
  return zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE", compressionOptions: { level: 6 } });
}

/** Sheet name → worksheet part path, through workbook.xml and its relationships (exceljs numbers parts itself). */
async function worksheetParts(zip: JSZip): Promise<Map<string, string>> {
  const targets = new Map<string, string>();
  for (const rel of (await readPart(zip, "xl/_rels/workbook.xml.rels")).matchAll(/<Relationship\b[^>]*>/g)) {
    const attrs = attributes(rel[0]);
    if (attrs.Type !== REL_TYPE.worksheet || !attrs.Id || !attrs.Target) continue;
    targets.set(attrs.Id, attrs.Target.startsWith("/") ? attrs.Target.slice(1) : `xl/${attrs.Target}`);
  }
  const parts = new Map<string, string>();
  for (const sheet of (await readPart(zip, "xl/workbook.xml")).matchAll(/<sheet\b[^>]*>/g)) {
    const attrs = attributes(sheet[0]);
    const target = attrs["r:id"] && targets.get(attrs["r:id"]);
    if (attrs.name !== undefined && target) parts.set(attrs.name, target);
  }
  return parts;
}

// Elements that CT_Worksheet orders after <drawing>; it has to precede the first of them that is present.
const AFTER_DRAWING = [
  "<legacyDrawing",
  "<legacyDrawingHF",
  "<picture",
  "<oleObjects",
  "<controls",
  "<webPublishItems",
  "<tableParts",
  "<extLst",
  "</worksheet>",
];

async function linkDrawing(zip: JSZip, sheetPart: string, drawingTarget: string): Promise<void> {
  const relId = "rIdChartDrawing";
  const xml = await readPart(zip, sheetPart);
  const at = Math.min(...AFTER_DRAWING.map((tag) => xml.indexOf(tag)).filter((i) => i >= 0));
  zip.file(sheetPart, `${xml.slice(0, at)}<drawing r:id="${relId}"/>${xml.slice(at)}`);

  const relsPart = sheetPart.replace(/([^/]+)$/, "_rels/$1.rels");
  const link = relationship(relId, REL_TYPE.drawing, drawingTarget);
  const existing = zip.file(relsPart);
  zip.file(
    relsPart,
    existing
      ? (await existing.async("string")).replace("</Relationships>", `${link}</Relationships>`)
      : relationships([link]),
  );
}

function anchorXml(chart: Chart, shapeId: number, relId: string): string {
  return (
    `<xdr:oneCellAnchor><xdr:from><xdr:col>${chart.col}</xdr:col><xdr:colOff>0</xdr:colOff>` +
    `<xdr:row>${chart.row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>` +
    `<xdr:ext cx="${CHART_WIDTH_EMU}" cy="${CHART_HEIGHT_EMU}"/>` +
    `<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="${shapeId}" name="${escapeXml(chart.title)}"/>` +
    "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>" +
    '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>' +
    `<a:graphic><a:graphicData uri="${NS.chart}"><c:chart xmlns:c="${NS.chart}" xmlns:r="${NS.rel}" r:id="${relId}"/>` +
    "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor>"
  );
}

function chartXml(sheet: Sheet, chart: Chart): string {
  const table = sheet.tables[chart.table];
  if (!table) throw new Error(`chart "${chart.title}" refers to a missing table`);
  const firstRow = table.row + 2;
  const lastRow = table.row + 1 + Math.max(1, table.rows.length);
  const range = (col: number) =>
    `${quoteSheet(sheet.name)}!$${columnLetter(table.col + col)}$${firstRow}:$${columnLetter(table.col + col)}$${lastRow}`;
  const categories = table.rows.map((r) => r[chart.categories] ?? null);
  const catRef =
    `<c:cat><c:strRef><c:f>${range(chart.categories)}</c:f>` +
    `${stringCache(categories.map((v) => (v === null ? null : cacheText(v))))}</c:strRef></c:cat>`;

  const series = chart.series
    .map((col, i) => {
      const column = table.columns[col];
      if (!column) throw new Error(`chart "${chart.title}" refers to a missing column ${col}`);
      const color = chart.colors?.[i] ?? PALETTE[i % PALETTE.length];
      const nameRef = `${quoteSheet(sheet.name)}!$${columnLetter(table.col + col)}$${table.row + 1}`;
      const values = table.rows.map((r) => {
        const v = r[col];
        return typeof v === "number" ? v : null;
      });
      const look =
        chart.kind === "line"
          ? `<c:spPr><a:ln w="28575" cap="rnd"><a:solidFill><a:srgbClr val="${color}"/></a:solidFill><a:round/></a:ln></c:spPr>` +
            '<c:marker><c:symbol val="none"/></c:marker>'
          : `<c:spPr><a:solidFill><a:srgbClr val="${color}"/></a:solidFill></c:spPr><c:invertIfNegative val="0"/>`;
      return (
        `<c:ser><c:idx val="${i}"/><c:order val="${i}"/>` +
        `<c:tx><c:strRef><c:f>${nameRef}</c:f>${stringCache([column.header])}</c:strRef></c:tx>` +
        look +
        catRef +
        `<c:val><c:numRef><c:f>${range(col)}</c:f>${numberCache(values, column.format)}</c:numRef></c:val>` +
        (chart.kind === "line" ? '<c:smooth val="0"/>' : "") +
        "</c:ser>"
      );
    })
    .join("");

  const axes = '<c:axId val="500000001"/><c:axId val="500000002"/>';
  const plot =
    chart.kind === "line"
      ? `<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>${series}<c:marker val="1"/>${axes}</c:lineChart>`
      : '<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/><c:varyColors val="0"/>' +
        `${series}<c:gapWidth val="150"/>${axes}</c:barChart>`;
  const axisText =
    '<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="800"/></a:pPr><a:endParaRPr lang="en-US"/></a:p></c:txPr>';
  const catAx =
    '<c:catAx><c:axId val="500000001"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>' +
    '<c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="1"/><c:majorTickMark val="out"/>' +
    `<c:minorTickMark val="none"/><c:tickLblPos val="low"/>${axisText}<c:crossAx val="500000002"/>` +
    '<c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/>' +
    '<c:noMultiLvlLbl val="0"/></c:catAx>';
  const valAx =
    '<c:valAx><c:axId val="500000002"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>' +
    '<c:axPos val="l"/><c:majorGridlines/><c:numFmt formatCode="General" sourceLinked="0"/>' +
    `<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>${axisText}` +
    '<c:crossAx val="500000001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>';
  const title =
    '<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1200" b="1"/></a:pPr>' +
    `<a:r><a:rPr lang="en-US" sz="1200" b="1"/><a:t>${escapeXml(chart.title)}</a:t></a:r></a:p></c:rich></c:tx>` +
    '<c:overlay val="0"/></c:title>';
  return (
    `${XML_DECL}<c:chartSpace xmlns:c="${NS.chart}" xmlns:a="${NS.main}" xmlns:r="${NS.rel}">` +
    `<c:roundedCorners val="0"/><c:chart>${title}<c:autoTitleDeleted val="0"/>` +
    `<c:plotArea><c:layout/>${plot}${catAx}${valAx}</c:plotArea>` +
    '<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend>' +
    '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
  );
}

function stringCache(values: readonly (string | null)[]): string {
  const points = values
    .map((v, i) => (v === null ? "" : `<c:pt idx="${i}"><c:v>${escapeXml(v)}</c:v></c:pt>`))
    .join("");
  return `<c:strCache><c:ptCount val="${values.length}"/>${points}</c:strCache>`;
}

function numberCache(values: readonly (number | null)[], format: string | undefined): string {
  const points = values.map((v, i) => (v === null ? "" : `<c:pt idx="${i}"><c:v>${v}</c:v></c:pt>`)).join("");
  return (
    `<c:numCache><c:formatCode>${escapeXml(format ?? "General")}</c:formatCode>` +
    `<c:ptCount val="${values.length}"/>${points}</c:numCache>`
  );
}

function cacheText(value: Exclude<CellValue, null>): string {
  return value instanceof Date ? value.toISOString().slice(0, 19).replace("T", " ") : String(value);
}

function relationship(id: string, type: string, target: string): string {
  return `<Relationship Id="${id}" Type="${type}" Target="${target}"/>`;
}

function relationships(entries: readonly string[]): string {
  return `${XML_DECL}<Relationships xmlns="${NS.pkgRel}">${entries.join("")}</Relationships>`;
}

function override(partName: string, contentType: string): string {
  return `<Override PartName="${partName}" ContentType="${contentType}"/>`;
}

async function readPart(zip: JSZip, path: string): Promise<string> {
  const file = zip.file(path);
  if (!file) throw new Error(`workbook part ${path} missing`);
  return file.async("string");
}

function attributes(tag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const [, name, value] of tag.matchAll(/([\w:]+)="([^"]*)"/g)) {
    if (name !== undefined && value !== undefined) attrs[name] = unescapeXml(value);
  }
  return attrs;
}

function columnLetter(index: number): string {
  let letters = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

function quoteSheet(name: string): string {
  return `'${escapeXml(name.replaceAll("'", "''"))}'`;
}

function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

function unescapeXml(text: string): string {
  return text
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

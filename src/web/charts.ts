import type { Tier } from "../usage/vm-rollup.js";
import type { AssetName } from "./assets.js";
import { html, type SafeHtml } from "./html.js";

/** What a page with a chart loads: uPlot before charts.js, which draws with it. */
export const CHART_ASSETS: AssetName[] = ["uPlot.min.css", "uPlot.min.js", "charts.js"];

export interface LineSeries {
  label: string;
  /** One value per x; null where the series has none, which leaves a gap rather than a drop to zero. */
  y: (number | null)[];
  /** Defaults to the next palette colour in static/charts.js. */
  color?: string;
}

/** What static/charts.js draws from a data-lines attribute. */
export interface LineChartSpec {
  /** Unix seconds. */
  x: number[];
  /** The axis labels' granularity; "month" wants x at the first of each month. */
  step: "hour" | "day" | "month";
  series: LineSeries[];
  /** Cumulative areas, for parts of a whole such as VMs per tier. */
  stacked?: boolean;
  /** Values hold until the next point: a VM's size changes at a snapshot, it does not slide between two. */
  stepped?: boolean;
  /** Fixed y range; by default from zero to a little above the largest value. */
  range?: [number, number];
  /** Each x a bar centred on it, stacked series as segments of one bar: totals per period, such as a month's bill. */
  bars?: boolean;
  /**
   * Show values with exactly this many decimals (money); 0 also keeps the y ticks whole (instances). By default up
   * to two, none for whole numbers.
   */
  decimals?: number;
}

export const TIER_COLORS: Record<Tier, string> = {
  Tin: "#64748b",
  Bronze: "#b45309",
  Silver: "#94a3b8",
  Gold: "#d4a106",
};

// Averages come out of SQL as long floats; four decimals is more than a chart can show and keeps pages small.
const compact = (v: number | null) => (v === null ? null : Math.round(v * 1e4) / 1e4);

export function lineChart(title: SafeHtml | string, spec: LineChartSpec, description: string): SafeHtml {
  const data = { ...spec, series: spec.series.map((s) => ({ ...s, y: s.y.map(compact) })) };
  return html`<figure class="chart-box">
    <figcaption>${title}</figcaption>
    <div class="chart lines" data-lines="${JSON.stringify(data)}" role="img" aria-label="${description}"></div>
  </figure>`;
}

// Draws the charts whose data the server embedded as JSON: bar charts in data-chart ({ x: unix seconds, y: counts })
// and line charts in data-lines (see lineChart below). Loaded with defer, so the document is parsed and uPlot
// (loaded before this file) is defined.
(() => {
  const BAR_HEIGHT = 180;
  const LINE_HEIGHT = 220;
  const AXIS = "#5b6472";
  const GRID = "#e6e9ef";
  // Series without a colour of their own (one per vCenter) take these in turn.
  const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
  const plots = [];

  // Periods are bucketed in UTC on the server; labelling them in local time would shift them.
  const tzDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");
  const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
  const formatValue = (v) => (v == null ? "–" : number.format(v));
  const HOUR = 3600;
  const DAY = 86_400;
  // Tick steps that fall on whole hours and days, so no axis labels a day chart with "3am".
  const HOUR_INCRS = [HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];
  const DAY_INCRS = [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 56 * DAY, 91 * DAY, 182 * DAY, 364 * DAY];
  // uPlot places multiples of 30 days on calendar month starts and 365 days on year starts.
  const MONTH_INCRS = [30 * DAY, 60 * DAY, 90 * DAY, 180 * DAY, 365 * DAY];
  const WHOLE_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];
  const STEPS = {
    hour: { incrs: HOUR_INCRS, label: "hour", legend: "{YYYY}-{MM}-{DD} {HH}:{mm}" },
    day: { incrs: DAY_INCRS, label: "day", legend: "{YYYY}-{MM}-{DD}" },
    month: { incrs: MONTH_INCRS, label: "month", legend: "{YYYY}-{MM}" },
  };
  const iso = (ts) => new Date(ts * 1e3).toISOString();
  // UTC and 24-hour like the tables: a day is "11-21" (with its year when the chart spans several), an hour "13:00",
  // a month "2024-05".
  function timeLabels(ticks, step) {
    if (step === "month") return ticks.map((t) => iso(t).slice(0, 7));
    const years = new Set(ticks.map((t) => iso(t).slice(0, 4))).size > 1;
    return ticks.map((t) => {
      const text = iso(t);
      const day = years ? text.slice(0, 10) : text.slice(5, 10);
      return step === "hour" && t % DAY !== 0 ? text.slice(11, 16) : day;
    });
  }
  // Stacked areas are painted over each other, so they get solid colours: translucent ones would mix.
  function tint(hex, share) {
    const channel = (i) => Math.round(255 - (255 - Number.parseInt(hex.slice(i, i + 2), 16)) * share);
    return `rgb(${channel(1)}, ${channel(3)}, ${channel(5)})`;
  }

  function barChart(el) {
    const series = JSON.parse(el.dataset.chart);
    // A zero-height bar still draws its outline along the axis; leaving the day empty reads cleaner.
    const counts = series.y.map((n) => (n === 0 ? null : n));
    const halfDay = 43_200;
    return new uPlot(
      {
        width: el.clientWidth,
        height: BAR_HEIGHT,
        legend: { live: true },
        tzDate,
        cursor: { y: false, points: { show: false } },
        // Bars are centred on their day; half a day of margin keeps the first and last one whole.
        scales: {
          x: { time: true, range: (_u, min, max) => [min - halfDay, max + halfDay] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [
          { stroke: AXIS, grid: { show: false } },
          {
            stroke: AXIS,
            grid: { stroke: GRID },
            // Counts are whole numbers; uPlot would otherwise label 0.5 steps on small ranges.
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
            values: (_u, ticks) => ticks.map((t) => String(t)),
          },
        ],
        series: [
          { label: "day", value: "{YYYY}-{MM}-{DD}" },
          {
            label: "changes",
            stroke: "#2563eb",
            fill: "rgba(37, 99, 235, 0.35)",
            paths: uPlot.paths.bars({ size: [0.7, 28] }),
            points: { show: false },
          },
        ],
      },
      [series.x, counts],
      el,
    );
  }

  /**
   * data-lines holds { x, step: "hour" | "day" | "month", series: [{ label, y, color? }], stacked?, stepped?, range?,
   * decimals? }:
   * x in unix seconds, y with null where a series has no value. Stacked series are drawn as cumulative areas, the
   * top one first so each lower one paints over it, while the legend still shows each series' own value.
   */
  function lineChart(el) {
    const spec = JSON.parse(el.dataset.lines);
    let data = spec.series.map((s) => s.y);
    let order = spec.series.map((_s, i) => i);
    if (spec.stacked) {
      const sums = spec.x.map(() => 0);
      data = spec.series.map((s) => s.y.map((v, i) => (sums[i] += v ?? 0)));
      order = order.reverse();
    }
    if (spec.bars) {
      // A zero-height bar still draws its outline along the axis; leaving the segment out reads cleaner.
      data = data.map((values, si) => values.map((v, i) => (spec.series[si].y[i] ? v : null)));
    }
    const step = STEPS[spec.step] ?? STEPS.day;
    const fixed =
      spec.decimals === undefined
        ? undefined
        : new Intl.NumberFormat("en-US", {
            minimumFractionDigits: spec.decimals,
            maximumFractionDigits: spec.decimals,
          });
    const format = (v) => (v == null || !fixed ? formatValue(v) : fixed.format(v));
    const stepped = spec.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
    const bars = spec.bars ? uPlot.paths.bars({ size: [0.6, 56] }) : undefined;
    // Half the distance between two bars on either side keeps the first and the last one whole.
    const pad = bars ? (spec.x.length > 1 ? spec.x[1] - spec.x[0] : DAY) / 2 : 0;
    const series = order.map((i) => {
      const s = spec.series[i];
      const color = s.color ?? PALETTE[i % PALETTE.length];
      return {
        label: s.label,
        stroke: color,
        width: bars ? 1 : 2,
        fill: spec.stacked || bars ? tint(color, 0.55) : undefined,
        paths: bars ?? stepped,
        points: bars ? { show: false } : undefined,
        spanGaps: false,
        value: (_u, _v, _si, idx) => format(idx == null ? null : s.y[idx]),
      };
    });
    const range = spec.range;
    return new uPlot(
      {
        width: el.clientWidth,
        height: LINE_HEIGHT,
        legend: { live: true },
        tzDate,
        cursor: { y: false },
        scales: {
          x: bars ? { time: true, range: (_u, min, max) => [min - pad, max + pad] } : { time: true },
          y: {
            range: range ? () => range : (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1],
          },
        },
        axes: [
          {
            stroke: AXIS,
            grid: { stroke: GRID },
            // One line of labels; uPlot's default leaves room for two.
            size: 32,
            space: 60,
            incrs: step.incrs,
            values: (_u, ticks) => timeLabels(ticks, spec.step),
          },
          {
            stroke: AXIS,
            grid: { stroke: GRID },
            size: 64,
            incrs: spec.decimals === 0 ? WHOLE_INCRS : undefined,
            values: (_u, ticks) => ticks.map(format),
          },
        ],
        series: [{ label: step.label, value: step.legend }, ...series],
      },
      [spec.x, ...order.map((i) => data[i])],
      el,
    );
  }

  for (const el of document.querySelectorAll("[data-chart]")) plots.push([el, barChart(el), BAR_HEIGHT]);
  for (const el of document.querySelectorAll("[data-lines]")) plots.push([el, lineChart(el), LINE_HEIGHT]);

  window.addEventListener("resize", () => {
    for (const [el, plot, height] of plots) plot.setSize({ width: el.clientWidth, height });
  });
})();

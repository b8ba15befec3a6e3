// Draws a host's charts from the timeseries API. The page describes each chart in data-host-chart ({ title, unit,
// lines: [{ label, metric, aggregation, rate?, labels? }] }) and the range in data-range ({ range: "1h" } or { from,
// to } as datetime-local text in UTC). The session cookie authorises the API requests. Loaded with defer, after uPlot.
(() => {
  const root = document.querySelector(".host-charts");
  if (!root) return;

  const HEIGHT = 220;
  const AXIS = "#5b6472";
  const GRID = "#e6e9ef";
  const PALETTE = ["#dc2626", "#2563eb", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
  const RANGE_SECONDS = {
    "5m": 300,
    "1h": 3600,
    "6h": 21_600,
    "24h": 86_400,
    "7d": 604_800,
    "30d": 2_592_000,
    "90d": 7_776_000,
  };
  // Steps that fall on whole minutes, hours and days; the finest keeps about 600 points across a chart.
  const STEPS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];
  const TARGET_POINTS = 600;
  // Agents push every 30 s: a rate needs at least two samples in its window, four make it steady.
  const MIN_RATE_WINDOW = 120;

  const system = root.dataset.system;
  const refreshSeconds = Number(root.dataset.refresh) || 30;
  let range = JSON.parse(root.dataset.range);
  const status = document.querySelector(".range-status");
  const autoRefresh = document.querySelector('input[name="auto-refresh"]');
  const customForm = document.querySelector(".custom-range");
  const charts = [...root.querySelectorAll("[data-host-chart]")].map((el) => ({
    el,
    spec: JSON.parse(el.dataset.hostChart),
    plot: undefined,
  }));

  const number = (digits) => new Intl.NumberFormat("en-US", { maximumFractionDigits: digits });
  const whole = number(0);
  const one = number(1);
  function bytesPerSecond(v) {
    const units = ["B/s", "KB/s", "MB/s", "GB/s", "TB/s"];
    let value = Math.abs(v);
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${(v < 0 ? "-" : "") + (value < 10 && unit > 0 ? one : whole).format(value)} ${units[unit]}`;
  }
  const FORMATS = {
    "°C": (v) => `${whole.format(v)} °C`,
    "%": (v) => `${one.format(v)}%`,
    W: (v) => `${whole.format(v)} W`,
    "B/s": bytesPerSecond,
  };

  // Byte rates get ticks at round binary multiples (1, 2, 5, 10, … KB/s), which the 1024-based labels show as such.
  const BINARY_INCRS = [0, 1, 2, 3, 4].flatMap((power) =>
    [1, 2, 5, 10, 20, 50, 100, 200, 500].map((n) => n * 1024 ** power),
  );
  const yRange = (unit) => (_u, _min, max) => {
    if (unit === "%") return [0, Math.max(100, max)];
    return [0, max > 0 ? max * 1.1 : 1];
  };

  const utc = (local) => Date.parse(`${local}:00Z`) / 1000;
  const pad = (n) => String(n).padStart(2, "0");
  function timeLabel(ts, span) {
    const d = new Date(ts * 1000);
    const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    const md = `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    if (span <= 86_400) return hm;
    return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? md : `${md} ${hm}`;
  }

  /**
   * since/until in unix seconds, the span a whole number of steps: the API's grid then ends exactly at `until`, so the
   * newest point is now (not up to a step ago), and every line of a chart shares the grid.
   */
  function timeWindow() {
    const now = Math.floor(Date.now() / 1000);
    const until = range.range ? now : Math.min(range.to ? utc(range.to) : now, now);
    const from = range.range ? now - RANGE_SECONDS[range.range] : utc(range.from);
    const span = Math.max(until - from, 1);
    const step = STEPS.find((s) => span / s <= TARGET_POINTS) ?? Math.ceil(span / TARGET_POINTS);
    return { since: until - Math.ceil(span / step) * step, until, step };
  }

  function lineUrl(line, w) {
    const params = new URLSearchParams({
      systems: system,
      since: String(w.since),
      until: String(w.until),
      step: String(w.step),
      aggregation: line.aggregation,
    });
    if (line.labels) params.set("labels", line.labels);
    if (line.rate) params.set("window", String(Math.max(MIN_RATE_WINDOW, w.step)));
    return `/api/timeseries/${encodeURIComponent(line.metric)}${line.rate ? "/rate" : ""}?${params}`;
  }

  async function fetchLine(line, w) {
    const response = await fetch(lineUrl(line, w), {
      credentials: "same-origin",
      headers: { accept: "application/json" },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.message ?? `HTTP ${response.status}`);
    }
    const body = await response.json();
    return body.data[system] ?? [];
  }

  /** uPlot's columns: the union of the lines' timestamps, null where a line has no point (a gap, not a zero). */
  function columns(lines) {
    const xs = [...new Set(lines.flatMap((points) => points.map((p) => p.timestamp)))].sort((a, b) => a - b);
    const ys = lines.map((points) => {
      const byTime = new Map(points.map((p) => [p.timestamp, p.value]));
      return xs.map((x) => byTime.get(x) ?? null);
    });
    return [xs, ...ys];
  }

  function create(chart, data) {
    const format = FORMATS[chart.spec.unit] ?? ((v) => one.format(v));
    return new uPlot(
      {
        width: chart.el.clientWidth,
        height: HEIGHT,
        legend: { live: true },
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
        cursor: { y: false },
        scales: {
          // The range asked for, not the data's: a host that reported for an hour shows as such on a 7-day chart.
          x: { time: true, range: () => [chart.window.since, chart.window.until] },
          y: { range: yRange(chart.spec.unit) },
        },
        axes: [
          {
            stroke: AXIS,
            grid: { stroke: GRID },
            size: 32,
            space: 70,
            values: (_u, ticks) => ticks.map((t) => timeLabel(t, chart.window.until - chart.window.since)),
          },
          {
            stroke: AXIS,
            grid: { stroke: GRID },
            size: 72,
            incrs: chart.spec.unit === "B/s" ? BINARY_INCRS : undefined,
            values: (_u, ticks) => ticks.map(format),
          },
        ],
        series: [
          { label: "UTC", value: "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" },
          ...chart.spec.lines.map((line, i) => ({
            label: line.label,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            spanGaps: false,
            value: (_u, v) => (v == null ? "–" : format(v)),
          })),
        ],
      },
      data,
      chart.el,
    );
  }

  function showEmpty(chart, empty) {
    let note = chart.el.querySelector(".chart-empty");
    if (empty && !note) {
      note = document.createElement("p");
      note.className = "chart-empty";
      note.textContent = "No data in this range.";
      chart.el.append(note);
    }
    if (!empty && note) note.remove();
  }

  let generation = 0;
  async function load() {
    const mine = ++generation;
    const w = timeWindow();
    if (status) status.textContent = "Loading…";
    const results = await Promise.allSettled(
      charts.map((chart) => Promise.all(chart.spec.lines.map((line) => fetchLine(line, w)))),
    );
    // A slower answer to an older range must not overwrite the newer one.
    if (mine !== generation) return;
    const failures = [];
    results.forEach((result, i) => {
      const chart = charts[i];
      if (result.status === "rejected") {
        failures.push(`${chart.spec.title}: ${result.reason.message}`);
        return;
      }
      const data = columns(result.value);
      chart.window = w;
      if (chart.plot) chart.plot.setData(data);
      else chart.plot = create(chart, data);
      showEmpty(chart, data[0].length === 0);
    });
    if (!status) return;
    const at = new Date().toISOString().slice(11, 19);
    status.textContent = failures.length
      ? `Could not load ${failures.join("; ")}`
      : `Updated ${at} UTC · one point per ${w.step >= 60 ? `${w.step / 60} min` : `${w.step} s`}`;
  }

  function markActive(id) {
    for (const a of document.querySelectorAll(".ranges a")) {
      const active = a.dataset.range === id;
      a.classList.toggle("active", active);
      if (active) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    }
    customForm?.querySelector("button")?.classList.toggle("active", id === undefined);
    if (autoRefresh) autoRefresh.disabled = id === undefined;
  }

  for (const a of document.querySelectorAll(".ranges a")) {
    a.addEventListener("click", (event) => {
      event.preventDefault();
      range = { range: a.dataset.range };
      history.replaceState(null, "", a.href);
      markActive(a.dataset.range);
      void load();
    });
  }

  customForm?.addEventListener("submit", (event) => {
    event.preventDefault();
    const from = customForm.elements.from.value;
    const to = customForm.elements.to.value;
    if (!from) return;
    range = to ? { from, to } : { from };
    const params = new URLSearchParams(range);
    history.replaceState(null, "", `${location.pathname}?${params}`);
    markActive(undefined);
    void load();
  });

  setInterval(() => {
    if (range.range && autoRefresh?.checked && document.visibilityState === "visible") void load();
  }, refreshSeconds * 1000);

  window.addEventListener("resize", () => {
    for (const chart of charts) chart.plot?.setSize({ width: chart.el.clientWidth, height: HEIGHT });
  });

  void load();
})();

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Random } from "../../bench/lib/random.js";
import { type Grid, type RangeFunction, rangeFunction, type Sample } from "../../src/telemetry/rate.js";
import { freePort } from "../helpers/cli.js";

/**
 * Our rate/increase/irate against a real Prometheus fed the same samples. Debian ships Prometheus 2.42, which
 * differs from Prometheus 3 (whose semantics we follow) in two places the data below stay clear of:
 * - its range window is closed, [t − W, t], where 3 has (t − W, t]: every sample lies on an odd millisecond and
 *   every window edge on a whole second, so no sample sits on an edge;
 * - it applies the counter's zero point before the 110% extrapolation threshold, 3 after (prometheus#13725); the
 *   two disagree only when a window starts far before its first sample and the counter's extrapolated zero
 *   point falls between half and 110% of an average interval before it. Irregular counters start and restart
 *   far above zero, the one starting at exactly 0 (where both agree) is sampled regularly, and
 *   `windowsWhereVersionsDiffer` checks that no grid point falls in that case.
 */

const missing = ["prometheus", "promtool"].filter((tool) => spawnSync(tool, ["--version"]).error !== undefined);
if (missing.length > 0 && process.env.CI === "true") {
  throw new Error(`${missing.join(", ")} missing (Debian package "prometheus")`);
}

const S = 1000;
const WINDOW = 300 * S;
const T0 = Date.UTC(2024, 0, 1);
const END = T0 + 3 * 3_600 * S;
const FUNCTIONS: RangeFunction[] = ["rate", "increase", "irate"];

interface Series {
  name: string;
  samples: Sample[];
}

/**
 * A counter sampled every 5–40 s (odd milliseconds, even intervals), with rare gaps of 2–9 minutes and resets.
 * A reset drops the counter to what it would count in 20–40 minutes, so its zero point stays far behind every
 * window; a gap comes at least 20 minutes after the series starts or resets.
 */
function irregularCounter(random: Random, name: string, start: number, startValue: number): Series {
  const samples: Sample[] = [];
  const perSecond = 10 ** random.int(0, 6) * (1 + random.next());
  let t = start + random.int(0, 499) * 2 + 1;
  let v = startValue;
  let lastEvent = t;
  while (t < END) {
    samples.push({ t, v });
    let interval = random.int(2_500, 20_000) * 2;
    const quiet = t - lastEvent > 20 * 60 * S;
    if (quiet && random.next() < 0.01) {
      interval = random.int(60_000, 270_000) * 2;
      lastEvent = t + interval;
    }
    t += interval;
    const restart = perSecond * random.int(1_200, 2_400);
    if (quiet && v > 2 * restart && random.next() < 0.02) {
      v = restart;
      lastEvent = t;
    } else {
      v += perSecond * (interval / 1000) * (0.5 + random.next());
    }
  }
  return { name, samples };
}

/** A counter starting at exactly 0, sampled every 10 s: the zero-point rule at the start of a series. */
function fromZero(random: Random, name: string, start: number): Series {
  const perSecond = 1 + random.next();
  const samples: Sample[] = [];
  for (let t = start + 1, v = 0; t < END; t += 10 * S, v += perSecond * 10 * (0.5 + random.next())) {
    samples.push({ t, v });
  }
  return { name, samples };
}

function openMetrics(series: readonly Series[]): string {
  const lines = ["# TYPE x counter"];
  for (const { name, samples } of series) {
    for (const { t, v } of samples) lines.push(`x_total{series="${name}"} ${v} ${(t / 1000).toFixed(3)}`);
  }
  lines.push("# EOF", "");
  return lines.join("\n");
}

/** Grid points where Prometheus 2.42 and 3 extrapolate differently (see the note at the top). */
function windowsWhereVersionsDiffer(samples: readonly Sample[], grid: Grid): number[] {
  const differ: number[] = [];
  for (let point = grid.start; point <= grid.end; point += grid.step) {
    const inWindow = samples.filter((s) => s.t > point - WINDOW && s.t <= point);
    const first = inWindow[0];
    const last = inWindow.at(-1);
    if (first === undefined || last === undefined || inWindow.length < 2) continue;
    let increase = last.v - first.v;
    for (let i = 1; i < inWindow.length; i++) {
      if ((inWindow[i] as Sample).v < (inWindow[i - 1] as Sample).v) increase += (inWindow[i - 1] as Sample).v;
    }
    const sampled = last.t - first.t;
    const average = sampled / (inWindow.length - 1);
    const toStart = first.t - (point - WINDOW);
    const toZero = increase > 0 ? sampled * (first.v / increase) : Infinity;
    if (toStart >= 1.1 * average && toZero >= average / 2 && toZero < 1.1 * average) differ.push(point);
  }
  return differ;
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${log()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus not ready after 15 s: ${log()}`);
}

interface QueryRangeResponse {
  status: string;
  data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
}

describe.skipIf(missing.length > 0)("rate, increase and irate agree with Prometheus", () => {
  const random = new Random(20_240_101);
  const series: Series[] = [
    fromZero(random, "from-zero", T0),
    ...Array.from({ length: 5 }, (_, i) =>
      irregularCounter(random, `s${i}`, T0 + random.int(0, 600) * S, 10 ** random.int(10, 13) * (1 + random.next())),
    ),
  ];
  // 15 s steps over the whole span, from before the first sample to after the last.
  const grid: Grid = { start: T0 - 60 * S, end: END + 10 * 60 * S, step: 15 * S };
  let dir = "";
  let prometheus: ChildProcess | undefined;
  let url = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fleetledger-prometheus-"));
    const input = join(dir, "samples.om");
    writeFileSync(input, openMetrics(series));
    const tsdb = join(dir, "tsdb");
    const created = spawnSync("promtool", ["tsdb", "create-blocks-from", "openmetrics", input, tsdb], {
      encoding: "utf8",
    });
    if (created.status !== 0) throw new Error(`promtool failed: ${created.stdout}${created.stderr}`);
    const config = join(dir, "prometheus.yml");
    writeFileSync(config, "global:\n  scrape_interval: 1m\n");
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    let log = "";
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${tsdb}`,
        "--storage.tsdb.retention.time=100y",
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus.stderr?.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4_000);
    });
    await waitReady(url, prometheus, () => log);
  }, 30_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once("exit", resolve));
      prometheus.kill("SIGTERM");
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the generated data exercise resets, gaps and the zero point, and avoid the 2.42/3 differences", () => {
    let resets = 0;
    let gaps = 0;
    for (const { samples } of series) {
      for (let i = 1; i < samples.length; i++) {
        const [a, b] = [samples[i - 1] as Sample, samples[i] as Sample];
        if (b.v < a.v) resets++;
        if (b.t - a.t > 1.1 * 40 * S) gaps++;
      }
      for (const { t } of samples) expect(t % 2).toBe(1);
      expect(windowsWhereVersionsDiffer(samples, grid)).toEqual([]);
    }
    expect(resets).toBeGreaterThanOrEqual(3);
    expect(gaps).toBeGreaterThanOrEqual(3);
  });

  for (const fn of FUNCTIONS) {
    it(`${fn}(x_total[5m]) on a 15 s grid is equal within 1e-9 on every point`, async () => {
      const query = new URLSearchParams({
        query: `${fn}(x_total[5m])`,
        start: String(grid.start / 1000),
        end: String(grid.end / 1000),
        step: String(grid.step / 1000),
      });
      const response = await fetch(`${url}/api/v1/query_range?${query}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as QueryRangeResponse;
      expect(body.status).toBe("success");
      const theirs = new Map(body.data.result.map((r) => [r.metric.series, r.values]));
      expect([...theirs.keys()].sort()).toEqual(series.map((s) => s.name).sort());

      let compared = 0;
      for (const { name, samples } of series) {
        const ours = rangeFunction(fn, samples, grid, WINDOW);
        const expected = theirs.get(name) ?? [];
        expect(ours.map((p) => p.t)).toEqual(expected.map(([t]) => Math.round(t * 1000)));
        ours.forEach((p, i) => {
          const other = Number((expected[i] as [number, string])[1]);
          const scale = Math.max(Math.abs(p.v), Math.abs(other));
          if (Math.abs(p.v - other) > 1e-9 * scale) {
            throw new Error(`${fn} ${name} at ${new Date(p.t).toISOString()}: ours ${p.v}, Prometheus ${other}`);
          }
          compared++;
        });
      }
      expect(compared).toBeGreaterThan(3_000);
    });
  }
});

import { readFile } from "node:fs/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  self_ms: number;
  /** Of the busy (non-idle) time. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Only samples taken between these CLOCK_MONOTONIC microseconds count, when set. */
  window: { from_us: number; to_us: number } | null;
  busy_ms: number;
  idle_ms: number;
  top_functions: SelfTime[];
  by_area: SelfTime[];
}

function location(url: string, line: number): string {
  const path = url.replace(/^file:\/\//, "");
  const nodeModules = path.lastIndexOf("/node_modules/");
  const short = nodeModules >= 0 ? path.slice(nodeModules + 14) : path.replace(/^.*?\/(src|bench|bin)\//, "$1/");
  return `${short}:${line + 1}`;
}

/** Where a function lives, coarse enough to say which layer the time goes to (a package, a src/ folder, Node). */
function area(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node: built-ins";
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const src = /\/(src\/[^/]+)\//.exec(url);
  return src ? (src[1] as string) : url;
}

function top(totals: Map<string, number>, busy: number, count: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, self_ms: Math.round(us / 1000), percent: Math.round((us / busy) * 1000) / 10 }));
}

/**
 * Self time per function and per area of a V8 .cpuprofile, the way DevTools' bottom-up view counts it. V8 stamps
 * samples with CLOCK_MONOTONIC microseconds, the clock behind process.hrtime() in every process of the machine,
 * so `window` taken in the bench process selects the server's samples of the measured window.
 */
export async function summariseProfile(
  file: string,
  window?: { from_us: number; to_us: number },
  count = 15,
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const next = i + 1 < profile.samples.length ? at + (profile.timeDeltas[i + 1] ?? 0) : profile.endTime;
    const duration = Math.max(0, next - at);
    if (window && (at < window.from_us || at >= window.to_us)) continue;
    const frame = nodes.get(profile.samples[i] as number)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === "(idle)") {
      idle += duration;
      continue;
    }
    busy += duration;
    const name = `${frame.functionName || "(anonymous)"}${frame.url ? ` ${location(frame.url, frame.lineNumber)}` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + duration);
    const where = area(frame.url, frame.functionName);
    byArea.set(where, (byArea.get(where) ?? 0) + duration);
  }
  return {
    file,
    window: window ?? null,
    busy_ms: Math.round(busy / 1000),
    idle_ms: Math.round(idle / 1000),
    top_functions: top(byFunction, busy, count),
    by_area: top(byArea, busy, count),
  };
}

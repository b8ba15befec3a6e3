import { collectInventory } from "../../src/vsphere/collect/inventory.js";
import { runBaseline, startVcsim } from "../../test/helpers/vcsim.js";
import { percentile, round } from "../lib/stats.js";

export interface SnapshotResult {
  vms: number;
  runs: number;
  ours: { runs_s: number[]; best_s: number; median_s: number; round_trips: number; rows: number };
  /** govmomi's program reports neither its requests nor its rows, only the objects it decoded. */
  baseline: { runs_s: number[]; best_s: number; median_s: number; vms: number; entities: number };
  ratio_best: number;
  ratio_median: number;
}

/** vCTP's pools are named after their tier; the simulator names each cluster's child pools in turn. */
const POOLS = ["Tin", "Bronze", "Silver", "Gold"];

/**
 * One simulator, then ours and the govmomi baseline alternately (who goes first alternates too), after one
 * untimed warm-up of each: the server keeps ours warm between hourly snapshots, and the baseline's Go binary
 * has no JIT to warm.
 */
export async function benchSnapshot(vms: number, runs: number, log: (line: string) => void): Promise<SnapshotResult> {
  const started = performance.now();
  const sim = await startVcsim({
    datacenters: 2,
    clustersPerDatacenter: 2,
    hostsPerCluster: 2,
    poolsPerCluster: POOLS.length,
    poolNames: POOLS,
    vmFolders: 2,
    vms,
    startTimeoutMs: 300_000,
  });
  log(`  vcsim with ${vms} VMs ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  try {
    const ours = () =>
      collectInventory({ url: sim.url, username: sim.username, password: sim.password, insecure: true });
    const baseline = () => runBaseline(sim);
    const first = await ours();
    const reference = await baseline();
    if (first.rows.length !== vms || reference.vms !== vms) {
      throw new Error(`expected ${vms} VMs; ours read ${first.rows.length}, govmomi ${reference.vms}`);
    }
    const oursMs: number[] = [];
    const baselineMs: number[] = [];
    let roundTrips = first.roundTrips;
    for (let run = 0; run < runs; run++) {
      const timeOurs = async () => {
        const result = await ours();
        oursMs.push(result.durationMs);
        roundTrips = Math.max(roundTrips, result.roundTrips);
      };
      const timeBaseline = async () => {
        baselineMs.push((await baseline()).ms);
      };
      for (const step of run % 2 === 0 ? [timeOurs, timeBaseline] : [timeBaseline, timeOurs]) await step();
      log(
        `  snapshot run ${run + 1}/${runs}: ours ${(oursMs[run] ?? 0).toFixed(0)} ms, ` +
          `govmomi ${(baselineMs[run] ?? 0).toFixed(0)} ms`,
      );
    }
    const summary = (ms: number[]) => ({
      runs_s: ms.map((m) => round(m / 1000, 3)),
      best_s: round(Math.min(...ms) / 1000, 3),
      median_s: round(percentile(ms, 0.5) / 1000, 3),
    });
    const o = summary(oursMs);
    const b = summary(baselineMs);
    return {
      vms,
      runs,
      ours: { ...o, round_trips: roundTrips, rows: first.rows.length },
      baseline: { ...b, vms: reference.vms, entities: reference.entities },
      ratio_best: round(Math.min(...oursMs) / Math.min(...baselineMs), 2),
      ratio_median: round(percentile(oursMs, 0.5) / percentile(baselineMs, 0.5), 2),
    };
  } finally {
    await sim.stop();
  }
}

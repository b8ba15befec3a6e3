import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollectResult, collectInventory } from "../../src/vsphere/collect/inventory.js";
import { type BaselineTiming, runBaseline, startVcsim, type Vcsim } from "../helpers/vcsim.js";

// FLEETLEDGER_SCALE_VMS=5000 repeats the measurement at the size the vSphere spec quotes its baseline for.
const VMS = Number(process.env.FLEETLEDGER_SCALE_VMS ?? 2000);
const RUNS = 3;

let sim: Vcsim;

beforeAll(async () => {
  sim = await startVcsim({
    datacenters: 2,
    clustersPerDatacenter: 2,
    hostsPerCluster: 2,
    poolsPerCluster: 3,
    vms: VMS,
  });
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

function collect(pageSize?: number): Promise<CollectResult> {
  return collectInventory({ url: sim.url, username: sim.username, password: sim.password, insecure: true, pageSize });
}

describe(`collectInventory over ${VMS} VMs`, () => {
  it("needs the same few requests as for a dozen VMs, and reports its time next to govmomi's", async () => {
    const ours: CollectResult[] = [];
    const govmomi: BaselineTiming[] = [];
    for (let run = 0; run < RUNS; run++) {
      ours.push(await collect(run === 0 ? 100 : undefined));
      govmomi.push(await runBaseline(sim));
    }

    for (const result of ours) {
      expect(result.rows).toHaveLength(VMS);
      // Login, two views read in one page each (the simulator does not page), logout: nothing per VM.
      expect(result.roundTrips).toBe(9);
    }
    expect(new Set(ours[0]?.rows.map((r) => r.VmId)).size).toBe(VMS);
    expect(new Set(ours[0]?.rows.map((r) => r.Datacenter))).toEqual(new Set(["DC0", "DC1"]));
    expect(govmomi[0]?.vms).toBe(VMS);

    const best = (values: number[]) => Math.min(...values).toFixed(0);
    console.info(
      `${VMS} VMs: ours ${ours.map((r) => r.durationMs.toFixed(0)).join("/")} ms (best ${best(ours.map((r) => r.durationMs))}, ` +
        `${ours[0]?.roundTrips} round trips); govmomi ContainerView.Retrieve ${govmomi.map((g) => g.ms.toFixed(0)).join("/")} ms ` +
        `(best ${best(govmomi.map((g) => g.ms))})`,
    );
  }, 120_000);
});

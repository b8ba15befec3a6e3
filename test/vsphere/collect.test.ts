import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollectOptions, collectInventory } from "../../src/vsphere/collect/inventory.js";
import type { VmSample } from "../../src/vsphere/collect/sample.js";
import { VimClient } from "../../src/vsphere/soap/client.js";
import {
  VsphereAuthError,
  VsphereConnectionError,
  VsphereTaskError,
  VsphereTlsError,
} from "../../src/vsphere/soap/errors.js";
import { containerViewFilter, createContainerView, retrieveAll } from "../../src/vsphere/soap/property-collector.js";
import { MoRef } from "../../src/vsphere/soap/values.js";
import { createVm, destroyVm, powerOffVm, powerOnVm, reconfigVm, waitForTask } from "../../src/vsphere/soap/vm-ops.js";
import { runBaseline, startVcsim, type Vcsim } from "../helpers/vcsim.js";

const VMS = 12;
const GIB_IN_KB = 1024 * 1024;

let sim: Vcsim;

beforeAll(async () => {
  // The first run builds the simulator (about 30 s); later runs reuse the cached binary.
  sim = await startVcsim({
    datacenters: 1,
    clustersPerDatacenter: 2,
    hostsPerCluster: 2,
    poolsPerCluster: 2,
    vms: VMS,
    vmFolders: 2,
  });
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

function collect(overrides: Partial<CollectOptions> = {}) {
  return collectInventory({
    url: sim.url,
    username: sim.username,
    password: sim.password,
    insecure: true,
    timeoutMs: 10_000,
    ...overrides,
  });
}

async function withSession<T>(work: (client: VimClient) => Promise<T>): Promise<T> {
  const client = await VimClient.connect({ url: sim.url, insecure: true, timeoutMs: 10_000 });
  try {
    await client.login(sim.username, sim.password);
    return await work(client);
  } finally {
    await client.logout();
    await client.close();
  }
}

function byId(rows: VmSample[], id: string): VmSample | undefined {
  return rows.find((r) => r.VmId === id);
}

/** Finds an inventory object by type and name through a container view (test set-up only). */
async function find(client: VimClient, type: string, name: string): Promise<MoRef> {
  const view = await createContainerView(client, client.serviceContent.rootFolder, [type], true);
  const objects = await retrieveAll(client, [containerViewFilter(view, [{ type, pathSet: ["name"] }])]);
  const match = objects.find((o) => o.props.get("name") === name);
  if (!match) throw new Error(`no ${type} named ${name}`);
  return match.obj;
}

describe("collectInventory against vcsim", () => {
  it("returns one row per VM the simulator reports, each complete and placed", async () => {
    const { rows, roundTrips } = await collect();
    // govmomi, an independent client, counts the simulator's VMs.
    const { vms } = await runBaseline(sim);
    expect(vms).toBe(VMS);
    expect(rows).toHaveLength(vms);
    expect(new Set(rows.map((r) => r.VmId)).size).toBe(VMS);
    // RetrieveServiceContent, Login, 2 × (CreateContainerView, RetrievePropertiesEx, DestroyView), Logout.
    expect(roundTrips).toBe(9);

    for (const row of rows) {
      expect(row.VmId).toMatch(/^vm-\d+$/);
      expect(row.VmUuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.InstanceUuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.Datacenter).toBe("DC0");
      expect(row.Cluster).toMatch(/^DC0_C[01]$/);
      expect(["Resources", `${row.Cluster}_RP1`, `${row.Cluster}_RP2`]).toContain(row.ResourcePool);
      expect(["", "DC0_F0", "DC0_F0/DC0_F1"]).toContain(row.Folder);
      expect(row.IsTemplate).toBe(false);
      expect(row.PoweredOn).toBe(true);
      expect(row.SrmPlaceholder).toBe(false);
      expect(row.CreationTime).toBeGreaterThan(Date.UTC(2020, 0, 1) / 1000);

      // test/vsphere/vcsim sizes VM i with 1 + i%4 vCPUs, 1 + i%8 GiB and a (10 + i%5·10) GiB disk.
      const i = Number(row.Name.replace(/^VM/, ""));
      expect(row.VcpuCount).toBe(1 + (i % 4));
      expect(row.RamGB).toBe(1 + (i % 8));
      expect(row.ProvisionedDisk).toBe(10 + (i % 5) * 10);
    }
    expect(new Set(rows.map((r) => r.Folder)).size).toBe(3);
    expect(new Set(rows.map((r) => r.ResourcePool)).size).toBeGreaterThan(1);
  });

  it("sees power-off, reconfiguration, SRM placeholders and destruction in the next collection", async () => {
    const before = await collect();
    const target = before.rows[0];
    const other = before.rows[1];
    if (!target || !other) throw new Error("no VMs");
    const vm = new MoRef("VirtualMachine", target.VmId);

    await withSession(async (client) => waitForTask(client, await powerOffVm(client, vm)));
    let after = await collect();
    expect(byId(after.rows, target.VmId)?.PoweredOn).toBe(false);
    expect(byId(after.rows, other.VmId)).toEqual(other);

    await withSession(async (client) =>
      waitForTask(client, await reconfigVm(client, vm, { numCPUs: 4, memoryMB: 8192 })),
    );
    after = await collect();
    expect(byId(after.rows, target.VmId)).toMatchObject({ VcpuCount: 4, RamGB: 8, PoweredOn: false });

    await withSession(async (client) =>
      waitForTask(
        client,
        await reconfigVm(client, vm, { managedBy: { extensionKey: "com.vmware.vcDr", type: "placeholderVm" } }),
      ),
    );
    after = await collect();
    expect(byId(after.rows, target.VmId)?.SrmPlaceholder).toBe(true);

    await withSession(async (client) => waitForTask(client, await destroyVm(client, vm)));
    after = await collect();
    expect(byId(after.rows, target.VmId)).toBeUndefined();
    expect(after.rows).toHaveLength(before.rows.length - 1);
  });

  it("reports a failed task as VsphereTaskError with its fault type", async () => {
    const { rows } = await collect();
    const running = rows.find((r) => r.PoweredOn);
    if (!running) throw new Error("no powered-on VM");
    const failure = await withSession(async (client) =>
      waitForTask(client, await powerOnVm(client, new MoRef("VirtualMachine", running.VmId))),
    ).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(VsphereTaskError);
    expect((failure as VsphereTaskError).faultType).toBe("InvalidPowerState");
  });

  it("sizes disks from the device list, with one more request, when the storage summary is empty", async () => {
    const diskKB = 7 * GIB_IN_KB;
    const created = await withSession(async (client) => {
      const task = await createVm(client, {
        name: "no-summary",
        folder: await find(client, "Folder", "DC0_F0"),
        pool: await find(client, "ResourcePool", "DC0_C1_RP2"),
        datastorePath: "[LocalDS_0]",
        numCPUs: 2,
        memoryMB: 1536,
        // Without capacityInBytes the simulator leaves summary.storage at zero, as vCenter may for a new VM.
        diskKB,
      });
      return waitForTask(client, task);
    });
    expect(created).toBeInstanceOf(MoRef);

    const { rows, roundTrips } = await collect();
    const row = byId(rows, (created as MoRef).value);
    expect(row).toMatchObject({
      Name: "no-summary",
      Folder: "DC0_F0",
      ResourcePool: "DC0_C1_RP2",
      Cluster: "DC0_C1",
      Datacenter: "DC0",
      VcpuCount: 2,
      RamGB: 1.5,
      ProvisionedDisk: 7,
      CreationTime: 0,
      PoweredOn: false,
    });
    expect(roundTrips).toBe(10);
  });

  it("rejects a wrong password with VsphereAuthError (InvalidLogin)", async () => {
    const failure = await collect({ password: "wrong" }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(VsphereAuthError);
    expect((failure as VsphereAuthError).faultType).toBe("InvalidLogin");
    expect((failure as VsphereAuthError).kind).toBe("auth");
  });

  it("reports a closed port as VsphereConnectionError", async () => {
    const port = await new Promise<number>((done) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const address = probe.address();
        probe.close(() => done(typeof address === "object" && address ? address.port : 0));
      });
    });
    const failure = await collect({ url: `https://127.0.0.1:${port}/sdk` }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(VsphereConnectionError);
    expect((failure as VsphereConnectionError).code).toBe("ECONNREFUSED");
    expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it("reports the simulator's self-signed certificate as VsphereTlsError unless insecure", async () => {
    const failure = await collect({ insecure: false }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(VsphereTlsError);
    expect((failure as Error).message).toMatch(/certificate/i);
  });
});

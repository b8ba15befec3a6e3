import { describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/load.js";
import type { VmSample as CollectedVm } from "../../src/vsphere/collect/sample.js";
import { snapshotFilters, tenantOf } from "../../src/vsphere/filters.js";

const vm = (over: Partial<CollectedVm>): CollectedVm => ({
  VmId: "vm-1",
  VmUuid: "u",
  InstanceUuid: "i",
  Name: "web-01",
  ResourcePool: "Gold",
  Datacenter: "DC0",
  Cluster: "C0",
  Folder: "acme/web",
  ProvisionedDisk: 10,
  VcpuCount: 1,
  RamGB: 1,
  CreationTime: 0,
  IsTemplate: false,
  PoweredOn: true,
  SrmPlaceholder: false,
  ...over,
});

function settings(yaml: Record<string, unknown>, tenantFrom: "folder" | "resource_pool" = "folder") {
  const s = loadSettings({ env: {}, cwd: "/nonexistent-dir-for-defaults" });
  Object.assign(s.settings, yaml);
  s.vsphere.tenant_from = tenantFrom;
  return s;
}

describe("vCTP filters", () => {
  it("derives the tenant from the first folder or from the pool", () => {
    expect(tenantOf({ Folder: "acme/web", ResourcePool: "Gold" }, "folder")).toBe("acme");
    expect(tenantOf({ Folder: "", ResourcePool: "Gold" }, "folder")).toBe("");
    expect(tenantOf({ Folder: "acme/web", ResourcePool: "Gold" }, "resource_pool")).toBe("Gold");
  });

  it("drops filtered tenants and SRM placeholders unless active/active", () => {
    const f = snapshotFilters(settings({ tenants_to_filter: ["^lab", "^TEST$"], srm_activeactive_vms: ["^db-aa-"] }));
    expect(f.keep(vm({}))).toBe(true);
    expect(f.keep(vm({ Folder: "lab-42/x" }))).toBe(false);
    expect(f.keep(vm({ Folder: "test" }))).toBe(false);
    expect(f.keep(vm({ SrmPlaceholder: true, Name: "web-01" }))).toBe(false);
    expect(f.keep(vm({ SrmPlaceholder: true, Name: "DB-AA-01" }))).toBe(true);
    const byPool = snapshotFilters(settings({ tenants_to_filter: ["^bronze$"] }, "resource_pool"));
    expect(byPool.keep(vm({ ResourcePool: "Bronze" }))).toBe(false);
  });

  it("marks node-charged clusters and names a bad pattern", () => {
    const f = snapshotFilters(settings({ node_charge_clusters: ["^GPU-"] }));
    expect(f.nodeCharged("GPU-Render")).toBe(true);
    expect(f.nodeCharged("General")).toBe(false);
    expect(() => snapshotFilters(settings({ tenants_to_filter: ["(("] }))).toThrow(/settings\.tenants_to_filter\[0\]/);
  });
});

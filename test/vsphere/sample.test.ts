import { describe, expect, it } from "vitest";
import { PlacementIndex } from "../../src/vsphere/collect/placement.js";
import { diskCapacityBytes, sampleOf, summaryStorageBytes, unixSeconds } from "../../src/vsphere/collect/sample.js";
import { parseXml } from "../../src/vsphere/soap/parse.js";
import type { ObjectContent } from "../../src/vsphere/soap/property-collector.js";
import { decodeValue, MoRef, type SoapValue } from "../../src/vsphere/soap/values.js";

function object(type: string, value: string, props: Record<string, SoapValue>): ObjectContent {
  return { obj: new MoRef(type, value), props: new Map(Object.entries(props)), missing: [] };
}

function entity(type: string, value: string, name: string, parent?: MoRef): ObjectContent {
  return object(type, value, parent ? { name, parent } : { name });
}

const ref = (type: string, value: string) => new MoRef(type, value);

// root ─ F-dcs ─ DC1 ─ vm ─ Prod ─ Web          (vm folder chain)
//                    └ host ─ Cluster1 ─ host-1, Resources ─ Gold
//                           └ esx-2 (standalone ComputeResource) ─ host-2, Resources
//                                                                   └ vApp1
const INVENTORY = [
  entity("Folder", "group-d1", "Datacenters"),
  entity("Folder", "f-dcs", "EMEA", ref("Folder", "group-d1")),
  entity("Datacenter", "dc-1", "DC1", ref("Folder", "f-dcs")),
  entity("Folder", "vmroot", "vm", ref("Datacenter", "dc-1")),
  entity("Folder", "f-prod", "Prod", ref("Folder", "vmroot")),
  entity("Folder", "f-web", "Web", ref("Folder", "f-prod")),
  entity("Folder", "hostroot", "host", ref("Datacenter", "dc-1")),
  entity("ClusterComputeResource", "c-1", "Cluster1", ref("Folder", "hostroot")),
  entity("HostSystem", "host-1", "esx-1.example", ref("ClusterComputeResource", "c-1")),
  entity("ResourcePool", "rp-root1", "Resources", ref("ClusterComputeResource", "c-1")),
  entity("ResourcePool", "rp-gold", "Gold", ref("ResourcePool", "rp-root1")),
  entity("ComputeResource", "cr-2", "esx-2.example", ref("Folder", "hostroot")),
  entity("HostSystem", "host-2", "esx-2.example", ref("ComputeResource", "cr-2")),
  entity("ResourcePool", "rp-root2", "Resources", ref("ComputeResource", "cr-2")),
  entity("VirtualApp", "vapp-1", "vApp1", ref("ResourcePool", "rp-root2")),
];

describe("placement", () => {
  const index = new PlacementIndex(INVENTORY);

  it("places a VM in a nested folder of a cluster pool", () => {
    expect(
      index.place({
        parent: ref("Folder", "f-web"),
        resourcePool: ref("ResourcePool", "rp-gold"),
        host: ref("HostSystem", "host-1"),
      }),
    ).toEqual({ ResourcePool: "Gold", Cluster: "Cluster1", Datacenter: "DC1", Folder: "Prod/Web" });
  });

  it("leaves the folder empty for a VM in the vm folder itself", () => {
    expect(index.place({ parent: ref("Folder", "vmroot"), resourcePool: undefined, host: undefined }).Folder).toBe("");
  });

  it("names a standalone host's compute resource as the cluster", () => {
    expect(
      index.place({
        parent: ref("Folder", "vmroot"),
        resourcePool: ref("ResourcePool", "rp-root2"),
        host: ref("HostSystem", "host-2"),
      }),
    ).toMatchObject({ ResourcePool: "Resources", Cluster: "esx-2.example", Datacenter: "DC1" });
  });

  it("places a vApp member, which has no parent folder, through its host and pool", () => {
    expect(
      index.place({ parent: undefined, resourcePool: ref("VirtualApp", "vapp-1"), host: ref("HostSystem", "host-2") }),
    ).toEqual({ ResourcePool: "vApp1", Cluster: "esx-2.example", Datacenter: "DC1", Folder: "" });
  });

  it("finds the cluster through the pool when the host is unknown", () => {
    expect(
      index.place({ parent: undefined, resourcePool: ref("ResourcePool", "rp-gold"), host: undefined }),
    ).toMatchObject({
      Cluster: "Cluster1",
      Datacenter: "DC1",
    });
  });

  it("survives a parent cycle", () => {
    const cyclic = new PlacementIndex([
      entity("Folder", "a", "A", ref("Folder", "b")),
      entity("Folder", "b", "B", ref("Folder", "a")),
    ]);
    expect(cyclic.place({ parent: ref("Folder", "a"), resourcePool: undefined, host: undefined })).toMatchObject({
      Datacenter: "",
      Folder: "",
    });
  });
});

describe("VM sample", () => {
  const index = new PlacementIndex(INVENTORY);
  const vm = (props: Record<string, SoapValue>) =>
    object("VirtualMachine", "vm-42", { name: "web-01", parent: ref("Folder", "f-web"), ...props });

  it("maps properties to the vCTP row fields", () => {
    const sample = sampleOf(
      vm({
        "config.uuid": "4210c3d5-0000-0000-0000-000000000001",
        "config.instanceUuid": "5010c3d5-0000-0000-0000-000000000002",
        "config.hardware.numCPU": 4,
        "config.hardware.memoryMB": 6144,
        "config.createDate": "2024-03-01T10:00:00.750Z",
        "config.template": false,
        "runtime.powerState": "poweredOn",
        "runtime.host": ref("HostSystem", "host-1"),
        resourcePool: ref("ResourcePool", "rp-gold"),
        "summary.storage.committed": 5 * 1024 ** 3,
        "summary.storage.uncommitted": 35 * 1024 ** 3,
      }),
      index,
    );
    expect(sample).toEqual({
      VmId: "vm-42",
      VmUuid: "4210c3d5-0000-0000-0000-000000000001",
      InstanceUuid: "5010c3d5-0000-0000-0000-000000000002",
      Name: "web-01",
      ResourcePool: "Gold",
      Datacenter: "DC1",
      Cluster: "Cluster1",
      Folder: "Prod/Web",
      ProvisionedDisk: 40,
      VcpuCount: 4,
      RamGB: 6,
      CreationTime: Date.UTC(2024, 2, 1, 10) / 1000,
      IsTemplate: false,
      PoweredOn: true,
      SrmPlaceholder: false,
    });
  });

  it("defaults what vCenter leaves unset: no config, no createDate, no pool (a template)", () => {
    const sample = sampleOf(vm({ "config.template": true, "runtime.powerState": "poweredOff" }), index);
    expect(sample).toMatchObject({
      VmUuid: "",
      VcpuCount: 0,
      RamGB: 0,
      CreationTime: 0,
      IsTemplate: true,
      PoweredOn: false,
    });
    expect(sample.ResourcePool).toBe("");
    expect(unixSeconds("not a date")).toBe(0);
  });

  it("flags SRM placeholders by config.managedBy.type", () => {
    const managedBy = (type: string) => ({ $type: "ManagedByInfo", extensionKey: "com.vmware.vcDr", type });
    expect(sampleOf(vm({ "config.managedBy": managedBy("placeholderVm") }), index).SrmPlaceholder).toBe(true);
    expect(sampleOf(vm({ "config.managedBy": managedBy("testVm") }), index).SrmPlaceholder).toBe(false);
  });

  it("treats an empty storage summary as unknown and sums virtual disks instead", () => {
    expect(
      summaryStorageBytes(vm({ "summary.storage.committed": 0, "summary.storage.uncommitted": 0 })),
    ).toBeUndefined();
    expect(summaryStorageBytes(vm({}))).toBeUndefined();
    const devices = parseXml(
      '<val xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ArrayOfVirtualDevice">' +
        '<VirtualDevice xsi:type="VirtualDisk"><key>2000</key><capacityInKB>2097152</capacityInKB></VirtualDevice>' +
        '<VirtualDevice xsi:type="VirtualDisk"><key>2001</key><capacityInKB>1</capacityInKB><capacityInBytes>1073741824</capacityInBytes></VirtualDevice>' +
        '<VirtualDevice xsi:type="VirtualCdrom"><key>3000</key></VirtualDevice></val>',
    );
    if (!devices) throw new Error("no element");
    expect(diskCapacityBytes(decodeValue(devices))).toBe(3 * 1024 ** 3);
    expect(sampleOf(vm({}), index, 3 * 1024 ** 3).ProvisionedDisk).toBe(3);
  });
});

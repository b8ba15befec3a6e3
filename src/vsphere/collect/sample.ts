import type { ObjectContent } from "../soap/property-collector.js";
import { asBoolean, asList, asMoRef, asNumber, asString, isDataObject, type SoapValue } from "../soap/values.js";
import type { PlacementIndex, VmLocation } from "./placement.js";

/** One VM in one hourly snapshot. Field names are vCTP's hourly snapshot columns. */
export interface VmSample {
  /** Managed object id, e.g. `vm-123`. */
  VmId: string;
  /** `config.uuid` (BIOS UUID). */
  VmUuid: string;
  InstanceUuid: string;
  Name: string;
  ResourcePool: string;
  Datacenter: string;
  Cluster: string;
  Folder: string;
  /** Provisioned disk in GiB. */
  ProvisionedDisk: number;
  VcpuCount: number;
  RamGB: number;
  /** `config.createDate` in unix seconds; 0 when vCenter does not report it. */
  CreationTime: number;
  IsTemplate: boolean;
  PoweredOn: boolean;
  /** An SRM placeholder (`config.managedBy.type == "placeholderVm"`). */
  SrmPlaceholder: boolean;
}

/** The VirtualMachine properties a sample is made of (the device list is fetched separately, only when needed). */
export const VM_PROPERTIES = [
  "name",
  "config.uuid",
  "config.instanceUuid",
  "config.hardware.numCPU",
  "config.hardware.memoryMB",
  "config.createDate",
  "config.template",
  "config.managedBy",
  "runtime.powerState",
  "runtime.host",
  "resourcePool",
  "parent",
  "summary.storage.committed",
  "summary.storage.uncommitted",
] as const;

export const DEVICE_PROPERTY = "config.hardware.device";

const GIB = 1024 ** 3;

function vmLocation(vm: ObjectContent): VmLocation {
  return {
    parent: asMoRef(vm.props.get("parent")),
    resourcePool: asMoRef(vm.props.get("resourcePool")),
    host: asMoRef(vm.props.get("runtime.host")),
  };
}

/**
 * Provisioned bytes from `summary.storage` (committed + uncommitted), or undefined when the summary cannot be
 * trusted. A registered VM always has at least its configuration file on a datastore, so a zero total means the
 * summary was never computed (govmomi's simulator never computes it) rather than an empty VM.
 */
export function summaryStorageBytes(vm: ObjectContent): number | undefined {
  const committed = asNumber(vm.props.get("summary.storage.committed"));
  const uncommitted = asNumber(vm.props.get("summary.storage.uncommitted"));
  const total = (committed ?? 0) + (uncommitted ?? 0);
  return total > 0 ? total : undefined;
}

/** Sum of the VirtualDisk capacities in a `config.hardware.device` value. */
export function diskCapacityBytes(devices: SoapValue | undefined): number {
  let total = 0;
  for (const device of asList(devices)) {
    if (!isDataObject(device) || device.$type !== "VirtualDisk") continue;
    const bytes = asNumber(device.capacityInBytes);
    const kb = asNumber(device.capacityInKB);
    total += bytes ?? (kb ?? 0) * 1024;
  }
  return total;
}

export function unixSeconds(value: SoapValue | undefined): number {
  const text = asString(value);
  if (!text) return 0;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

/** Builds a VM's sample from its properties; `diskBytes` replaces the storage summary when that was unusable. */
export function sampleOf(vm: ObjectContent, index: PlacementIndex, diskBytes?: number): VmSample {
  const p = vm.props;
  const managedBy = p.get("config.managedBy");
  const memoryMB = asNumber(p.get("config.hardware.memoryMB"));
  return {
    VmId: vm.obj.value,
    VmUuid: asString(p.get("config.uuid")) ?? "",
    InstanceUuid: asString(p.get("config.instanceUuid")) ?? "",
    Name: asString(p.get("name")) ?? "",
    ...index.place(vmLocation(vm)),
    ProvisionedDisk: (diskBytes ?? summaryStorageBytes(vm) ?? 0) / GIB,
    VcpuCount: asNumber(p.get("config.hardware.numCPU")) ?? 0,
    RamGB: memoryMB === undefined ? 0 : memoryMB / 1024,
    CreationTime: unixSeconds(p.get("config.createDate")),
    IsTemplate: asBoolean(p.get("config.template")) ?? false,
    PoweredOn: asString(p.get("runtime.powerState")) === "poweredOn",
    SrmPlaceholder: isDataObject(managedBy) && asString(managedBy.type) === "placeholderVm",
  };
}

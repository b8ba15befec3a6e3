/**
 * Virtual machine operations: power, reconfiguration, destruction, and following the tasks they start.
 *
 * The collector never changes the inventory; these exist so tests can change a real protocol peer (vcsim) between
 * two snapshots, and for a future admin action. Every `*Vm` function starts the vim25 task and returns its
 * reference at once; `waitForTask` follows a task to its end and throws `VsphereTaskError` if it failed.
 */
import type { VimClient } from "./client.js";
import { VsphereProtocolError, VsphereTaskError, VsphereTimeoutError } from "./errors.js";
import { child } from "./parse.js";
import { retrievePropertiesEx } from "./property-collector.js";
import { asString, isDataObject, MoRef, type SoapValue } from "./values.js";
import { field, moRefElement, typedElement } from "./xml.js";

/** The subset of VirtualMachineConfigSpec these operations change; unset fields stay as they are. */
export interface VmConfigChange {
  numCPUs?: number;
  memoryMB?: number;
  /** Marks the VM as managed by an extension, e.g. SRM placeholders: `{ extensionKey: "com.vmware.vcDr", type: "placeholderVm" }`. */
  managedBy?: { extensionKey: string; type: string };
}

export interface WaitOptions {
  /** Give up after this long (default 5 minutes); the task itself keeps running on the server. */
  timeoutMs?: number;
  /** First polling interval; it doubles up to one second. */
  pollMs?: number;
}

export interface NewVm {
  name: string;
  /** VM folder to create the VM in. */
  folder: MoRef;
  /** Resource pool (or vApp) the VM draws from; vCenter picks a host of its cluster. */
  pool: MoRef;
  /** Datastore for the VM's files, as a datastore path such as `[LocalDS_0]`. */
  datastorePath: string;
  numCPUs: number;
  memoryMB: number;
  /** Size of one thin-provisioned disk on a paravirtual SCSI controller; no disk when undefined. */
  diskKB?: number;
  guestId?: string;
}

/** CreateVM_Task on the folder; the task's result is the new VM's reference. */
export function createVm(client: VimClient, vm: NewVm): Promise<MoRef> {
  // Negative keys are placeholders vCenter replaces; the disk names its controller by the controller's key.
  const disk =
    vm.diskKB === undefined
      ? ""
      : `<deviceChange>${field("operation", "add")}${typedElement(
          "device",
          "ParaVirtualSCSIController",
          field("key", -100) + field("busNumber", 0) + field("sharedBus", "noSharing"),
        )}</deviceChange><deviceChange>${field("operation", "add")}${field("fileOperation", "create")}${typedElement(
          "device",
          "VirtualDisk",
          field("key", -101) +
            typedElement(
              "backing",
              "VirtualDiskFlatVer2BackingInfo",
              field("fileName", "") + field("diskMode", "persistent") + field("thinProvisioned", true),
            ) +
            field("controllerKey", -100) +
            field("unitNumber", 0) +
            field("capacityInKB", vm.diskKB),
        )}</deviceChange>`;
  const config =
    field("name", vm.name) +
    field("guestId", vm.guestId ?? "otherGuest") +
    `<files>${field("vmPathName", vm.datastorePath)}</files>` +
    field("numCPUs", vm.numCPUs) +
    field("memoryMB", vm.memoryMB) +
    disk;
  return startTask(client, "CreateVM_Task", vm.folder, `<config>${config}</config>${moRefElement("pool", vm.pool)}`);
}

/** PowerOnVM_Task. */
export function powerOnVm(client: VimClient, vm: MoRef): Promise<MoRef> {
  return startTask(client, "PowerOnVM_Task", vm, "");
}

/** PowerOffVM_Task (hard power off, not a guest shutdown). */
export function powerOffVm(client: VimClient, vm: MoRef): Promise<MoRef> {
  return startTask(client, "PowerOffVM_Task", vm, "");
}

/** ReconfigVM_Task with a VirtualMachineConfigSpec holding only the given changes. */
export function reconfigVm(client: VimClient, vm: MoRef, change: VmConfigChange): Promise<MoRef> {
  // Field order follows the VirtualMachineConfigSpec sequence in the WSDL; vCenter rejects out-of-order fields.
  const managedBy = change.managedBy
    ? `<managedBy>${field("extensionKey", change.managedBy.extensionKey)}${field("type", change.managedBy.type)}</managedBy>`
    : "";
  const spec = field("numCPUs", change.numCPUs) + field("memoryMB", change.memoryMB) + managedBy;
  return startTask(client, "ReconfigVM_Task", vm, `<spec>${spec}</spec>`);
}

/** Destroy_Task: unregisters the VM and deletes its files. */
export function destroyVm(client: VimClient, vm: MoRef): Promise<MoRef> {
  return startTask(client, "Destroy_Task", vm, "");
}

/**
 * Polls the task's `info.state` through the PropertyCollector until it is `success` (returning `info.result`, if
 * any) or `error` (throwing `VsphereTaskError` with the fault type from `info.error`).
 */
export async function waitForTask(
  client: VimClient,
  task: MoRef,
  options: WaitOptions = {},
): Promise<SoapValue | undefined> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  let pause = options.pollMs ?? 25;
  for (;;) {
    const { objects } = await retrievePropertiesEx(client, [
      { propSet: [{ type: "Task", pathSet: ["info.state", "info.error", "info.result"] }], objectSet: [{ obj: task }] },
    ]);
    const props = objects[0]?.props;
    const state = asString(props?.get("info.state"));
    if (state === undefined) throw new VsphereProtocolError(`task ${task.value} reports no info.state`);
    if (state === "success") return props?.get("info.result");
    if (state === "error") {
      const error = props?.get("info.error");
      const fault = isDataObject(error) ? error.fault : undefined;
      throw new VsphereTaskError(
        task.value,
        isDataObject(fault) ? fault.$type : undefined,
        isDataObject(error) ? asString(error.localizedMessage) : undefined,
      );
    }
    if (Date.now() + pause > deadline) {
      throw new VsphereTimeoutError(`task ${task.value} still ${state} after ${timeoutMs} ms`, timeoutMs);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 1000);
  }
}

async function startTask(client: VimClient, method: string, vm: MoRef, parameters: string): Promise<MoRef> {
  const response = await client.invoke(method, vm, parameters);
  const task = child(response, "returnval");
  if (!task) throw new VsphereProtocolError(`${method}: the answer names no task`);
  return new MoRef(task.attributes.type ?? "Task", task.text);
}

import type { Settings } from "../config/schema.js";
import type { VmSample as CollectedVm } from "./collect/sample.js";

/** A VM's tenant: its first folder under the datacenter's VM folder, or its resource pool (`vsphere.tenant_from`). */
export function tenantOf(vm: Pick<CollectedVm, "Folder" | "ResourcePool">, from: "folder" | "resource_pool"): string {
  if (from === "resource_pool") return vm.ResourcePool;
  const first = vm.Folder.split("/").find((part) => part !== "" && part !== "vm");
  return first ?? "";
}

function compile(name: string, patterns: readonly string[]): RegExp[] {
  return patterns.map((p, i) => {
    try {
      return new RegExp(p, "i");
    } catch (err) {
      throw new Error(`settings.${name}[${i}] is not a regular expression: ${(err as Error).message}`);
    }
  });
}

export interface SnapshotFilters {
  /** True when the VM is stored: not in a filtered tenant, and not an SRM placeholder unless active/active. */
  keep(vm: CollectedVm): boolean;
  /** True when the VM's cluster is charged per node rather than per VM. */
  nodeCharged(cluster: string): boolean;
}

/**
 * vCTP's filters. `tenants_to_filter` and SRM placeholders are applied when a snapshot is stored, so no rollup,
 * report or bill has to remember them; `node_charge_clusters` only changes chargeback.
 */
export function snapshotFilters(settings: Settings): SnapshotFilters {
  const v = settings.settings;
  const tenants = compile("tenants_to_filter", v.tenants_to_filter);
  const nodeClusters = compile("node_charge_clusters", v.node_charge_clusters);
  const activeActive = compile("srm_activeactive_vms", v.srm_activeactive_vms);
  const from = settings.vsphere.tenant_from;
  return {
    keep(vm) {
      const tenant = tenantOf(vm, from);
      if (tenants.some((re) => re.test(tenant))) return false;
      if (vm.SrmPlaceholder && !activeActive.some((re) => re.test(vm.Name))) return false;
      return true;
    },
    nodeCharged(cluster) {
      return nodeClusters.some((re) => re.test(cluster));
    },
  };
}

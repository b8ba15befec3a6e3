import type { ObjectContent } from "../soap/property-collector.js";
import { asMoRef, asString, type MoRef } from "../soap/values.js";

/** The inventory types whose `name` and `parent` place a VM. */
export const PLACEMENT_TYPES = [
  "Folder",
  "Datacenter",
  "ClusterComputeResource",
  "ComputeResource",
  "ResourcePool",
  "VirtualApp",
  "HostSystem",
] as const;

export interface Placement {
  ResourcePool: string;
  Cluster: string;
  Datacenter: string;
  /** Folders between the datacenter's vm folder and the VM, joined with `/`; empty for a VM in the vm folder itself. */
  Folder: string;
}

export interface VmLocation {
  parent: MoRef | undefined;
  resourcePool: MoRef | undefined;
  host: MoRef | undefined;
}

interface Entity {
  type: string;
  name: string;
  parent: MoRef | undefined;
}

const COMPUTE_RESOURCES = new Set(["ComputeResource", "ClusterComputeResource"]);
// Deeper than any real inventory; only there to stop on a parent cycle in a corrupt answer.
const MAX_DEPTH = 256;

/**
 * Name and parent of every folder, datacenter, compute resource, pool and host, read once per run, so placing a VM
 * is a few map lookups instead of a request per VM. Datacenter and folder path are memoised per parent.
 */
export class PlacementIndex {
  private readonly entities = new Map<string, Entity>();
  private readonly datacenters = new Map<string, string>();
  private readonly folderPaths = new Map<string, string>();

  constructor(objects: Iterable<ObjectContent>) {
    for (const o of objects) {
      this.entities.set(o.obj.value, {
        type: o.obj.type,
        name: asString(o.props.get("name")) ?? "",
        parent: asMoRef(o.props.get("parent")),
      });
    }
  }

  place(vm: VmLocation): Placement {
    return {
      ResourcePool: vm.resourcePool ? (this.entities.get(vm.resourcePool.value)?.name ?? "") : "",
      Cluster: this.cluster(vm),
      // A VM inside a vApp has no parent folder; its host or pool still lead to the datacenter.
      Datacenter: this.datacenter(vm.parent ?? vm.host ?? vm.resourcePool),
      Folder: vm.parent ? this.folderPath(vm.parent) : "",
    };
  }

  /** The compute resource (cluster, or a standalone host's ComputeResource) of the VM's host, else of its pool. */
  private cluster(vm: VmLocation): string {
    const start = vm.host ? this.entities.get(vm.host.value)?.parent : vm.resourcePool;
    return this.ancestor(start, (e) => COMPUTE_RESOURCES.has(e.type))?.name ?? "";
  }

  private datacenter(start: MoRef | undefined): string {
    if (!start) return "";
    const cached = this.datacenters.get(start.value);
    if (cached !== undefined) return cached;
    const name = this.ancestor(start, (e) => e.type === "Datacenter")?.name ?? "";
    this.datacenters.set(start.value, name);
    return name;
  }

  private folderPath(folder: MoRef): string {
    const cached = this.folderPaths.get(folder.value);
    if (cached !== undefined) return cached;
    const names: string[] = [];
    let ref: MoRef | undefined = folder;
    while (ref) {
      const entity = this.entities.get(ref.value);
      // The folder whose parent is the datacenter is its vm folder: the root the path is relative to.
      if (entity?.type !== "Folder" || !entity.parent || entity.parent.type === "Datacenter") break;
      if (names.length === MAX_DEPTH) {
        names.length = 0;
        break;
      }
      names.push(entity.name);
      ref = entity.parent;
    }
    const path = names.reverse().join("/");
    this.folderPaths.set(folder.value, path);
    return path;
  }

  private ancestor(start: MoRef | undefined, match: (entity: Entity) => boolean): Entity | undefined {
    let ref = start;
    for (let depth = 0; ref && depth < MAX_DEPTH; depth++) {
      const entity = this.entities.get(ref.value);
      if (!entity) return undefined;
      if (match(entity)) return entity;
      ref = entity.parent;
    }
    return undefined;
  }
}

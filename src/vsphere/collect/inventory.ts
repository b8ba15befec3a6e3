import { VimClient } from "../soap/client.js";
import {
  containerViewFilter,
  createContainerView,
  destroyView,
  type ObjectContent,
  type PropertyFilterSpec,
  retrieveAll,
} from "../soap/property-collector.js";
import { VsphereTimeoutError } from "../soap/errors.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../soap/transport.js";
import type { MoRef } from "../soap/values.js";
import { PLACEMENT_TYPES, PlacementIndex } from "./placement.js";
import {
  DEVICE_PROPERTY,
  diskCapacityBytes,
  sampleOf,
  summaryStorageBytes,
  VM_PROPERTIES,
  type VmSample,
} from "./sample.js";

export interface CollectOptions {
  /** SDK endpoint, e.g. `https://vcenter.example/sdk`. */
  url: string;
  username: string;
  password: string;
  /** Skip TLS certificate verification (`vcenter_insecure`). */
  insecure: boolean;
  /** `maxObjects` per RetrievePropertiesEx page (default 1000). */
  pageSize?: number;
  /** Limit for each HTTP request (default 60 s). */
  timeoutMs?: number;
  /** Limit for the whole collection, login to logout (default 30 minutes). */
  runTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface CollectResult {
  rows: VmSample[];
  /** HTTP requests the run made, from RetrieveServiceContent to Logout. */
  roundTrips: number;
  durationMs: number;
}

const DEFAULT_PAGE_SIZE = 1000;
const DEFAULT_RUN_TIMEOUT_MS = 30 * 60_000;

/**
 * Reads every virtual machine of a vCenter as snapshot rows. The number of requests does not grow with the VM
 * count except by pages: a ContainerView over all VMs read page by page, a second view over the folders, compute
 * resources, pools and hosts read once to place every VM, and a device read only for VMs whose storage summary
 * is unusable.
 */
export async function collectInventory(options: CollectOptions): Promise<CollectResult> {
  const started = performance.now();
  const runTimeoutMs = options.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  const runLimit = new AbortController();
  const timer = setTimeout(
    () => runLimit.abort(new VsphereTimeoutError(`the vCenter collection exceeded ${runTimeoutMs} ms`, runTimeoutMs)),
    runTimeoutMs,
  );
  let client: VimClient | undefined;
  try {
    client = await VimClient.connect({
      url: options.url,
      insecure: options.insecure,
      timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      signal: options.signal ? AbortSignal.any([runLimit.signal, options.signal]) : runLimit.signal,
    });
    let rows: VmSample[];
    try {
      await client.login(options.username, options.password);
      rows = await collectRows(client, options.pageSize ?? DEFAULT_PAGE_SIZE);
    } finally {
      // Logging out frees the session's views and paged results; a failure here must not hide the outcome.
      await client.logout().catch(() => undefined);
    }
    return { rows, roundTrips: client.roundTrips, durationMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
    await client?.close();
  }
}

async function collectRows(client: VimClient, pageSize: number): Promise<VmSample[]> {
  const root = client.serviceContent.rootFolder;
  const [vms, placement] = await settleBoth(
    readView(
      client,
      root,
      ["VirtualMachine"],
      (view) => containerViewFilter(view, [{ type: "VirtualMachine", pathSet: VM_PROPERTIES }]),
      pageSize,
    ),
    readView(
      client,
      root,
      PLACEMENT_TYPES,
      (view) =>
        containerViewFilter(
          view,
          PLACEMENT_TYPES.map((type) => ({ type, pathSet: ["name", "parent"] })),
        ),
      pageSize,
    ),
  );
  const index = new PlacementIndex(placement);
  const diskBytes = await readDiskCapacities(
    client,
    vms.filter((vm) => summaryStorageBytes(vm) === undefined).map((vm) => vm.obj),
    pageSize,
  );
  return vms.map((vm) => sampleOf(vm, index, diskBytes.get(vm.obj.value)));
}

async function readView(
  client: VimClient,
  container: MoRef,
  types: readonly string[],
  filter: (view: MoRef) => PropertyFilterSpec,
  pageSize: number,
): Promise<ObjectContent[]> {
  const view = await createContainerView(client, container, types, true);
  try {
    return await retrieveAll(client, [filter(view)], { maxObjects: pageSize });
  } finally {
    await destroyView(client, view).catch(() => undefined);
  }
}

async function readDiskCapacities(client: VimClient, vms: MoRef[], pageSize: number): Promise<Map<string, number>> {
  const capacities = new Map<string, number>();
  if (vms.length === 0) return capacities;
  const objects = await retrieveAll(
    client,
    [{ propSet: [{ type: "VirtualMachine", pathSet: [DEVICE_PROPERTY] }], objectSet: vms.map((obj) => ({ obj })) }],
    { maxObjects: pageSize },
  );
  for (const o of objects) capacities.set(o.obj.value, diskCapacityBytes(o.props.get(DEVICE_PROPERTY)));
  return capacities;
}

// Both reads share the session: wait for both to finish before the caller logs out, then report the first failure.
async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === "rejected") throw ra.reason;
  if (rb.status === "rejected") throw rb.reason;
  return [ra.value, rb.value];
}

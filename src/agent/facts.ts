import { createHash } from "node:crypto";
import type { Systeminformation } from "systeminformation";
import { canonicalJson } from "../inventory/canonical.js";

/** The systeminformation answers the inventory is made of. */
export interface FactSources {
  os: Pick<Systeminformation.OsData, "distro" | "release" | "codename" | "kernel" | "arch" | "hostname">;
  cpu: Pick<
    Systeminformation.CpuData,
    "manufacturer" | "brand" | "cores" | "physicalCores" | "processors" | "speedMax" | "speed"
  >;
  mem: Pick<Systeminformation.MemData, "total" | "swaptotal">;
  system: Pick<Systeminformation.SystemData, "manufacturer" | "model" | "serial" | "uuid" | "virtual" | "virtualHost">;
  interfaces: Pick<
    Systeminformation.NetworkInterfacesData,
    "iface" | "mac" | "ip4" | "ip6" | "speed" | "internal" | "virtual"
  >[];
  disks: Pick<Systeminformation.DiskLayoutData, "device" | "type" | "name" | "vendor" | "size" | "serialNum">[];
  gpus: Pick<Systeminformation.GraphicsControllerData, "vendor" | "model" | "vram" | "busAddress">[];
}

export interface FactExtras {
  agent_version: string;
  docker: boolean;
  exporters: string[];
}

/** BIOS placeholders that identify nothing. */
const PLACEHOLDER =
  /^(|-|none|default string|to be filled by o\.e\.m\.|not specified|system serial number|0+|0{8}-0{4}-0{4}-0{4}-0{12})$/i;
const real = (value: string | undefined) => (value && !PLACEHOLDER.test(value.trim()) ? value.trim() : null);

/**
 * The host facts document in the collect shape (`{"facts": {...}}`, see spec/inventory.md), so the inventory differ's
 * categories apply: distro → os, processors/memory/product/virtual → hardware, network → network, features.
 * Only slowly changing facts are included (totals, not usage), so the document hash changes when the host does.
 */
export function factsDocument(s: FactSources, extras: FactExtras): { facts: Record<string, unknown> } {
  return {
    facts: {
      hostname: s.os.hostname,
      distro: { name: s.os.distro, version: s.os.release, codename: s.os.codename || null },
      kernel: { release: s.os.kernel, architecture: s.os.arch },
      processors: {
        count: s.cpu.processors,
        model: `${s.cpu.manufacturer} ${s.cpu.brand}`.trim(),
        cores: s.cpu.physicalCores,
        threads: s.cpu.cores,
        max_ghz: s.cpu.speedMax || s.cpu.speed || null,
      },
      memory: { system: { total_bytes: s.mem.total }, swap: { total_bytes: s.mem.swaptotal } },
      product: {
        manufacturer: real(s.system.manufacturer),
        name: real(s.system.model),
        serial: real(s.system.serial),
        uuid: real(s.system.uuid)?.toLowerCase() ?? null,
      },
      virtual: { enabled: s.system.virtual, host: s.system.virtualHost ?? null },
      network: {
        interfaces: s.interfaces
          .filter((i) => !i.internal && !i.virtual)
          .map((i) => ({
            name: i.iface,
            mac: i.mac || null,
            ipv4: i.ip4 || null,
            ipv6: i.ip6 || null,
            speed_mbps: i.speed,
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      },
      disks: s.disks
        .map((d) => ({
          device: d.device,
          type: d.type,
          model: d.name,
          vendor: d.vendor || null,
          size_bytes: d.size,
          serial: real(d.serialNum),
        }))
        .sort((a, b) => a.device.localeCompare(b.device)),
      gpus: s.gpus
        .filter((g) => g.model)
        .map((g) => ({ vendor: g.vendor, model: g.model, vram_mb: g.vram ?? null, bus: g.busAddress ?? null })),
      features: {
        docker: { enabled: extras.docker },
        agent: { version: extras.agent_version, exporters: [...extras.exporters].sort() },
      },
    },
  };
}

/**
 * Identity of the hardware, sent with every metric batch and at enrolment: board, CPU, memory, MACs and disk serials
 * — what survives a reinstall and changes with a board or disk swap.
 */
export function hardwareHash(document: { facts: Record<string, unknown> }): string {
  const f = document.facts as {
    product: unknown;
    processors: { model: string; count: number };
    memory: { system: { total_bytes: number } };
    network: { interfaces: { mac: string | null }[] };
    disks: { serial: string | null }[];
  };
  const identity = {
    product: f.product,
    cpu: [f.processors.model, f.processors.count],
    memory: f.memory.system.total_bytes,
    macs: f.network.interfaces
      .map((i) => i.mac)
      .filter(Boolean)
      .sort(),
    disks: f.disks
      .map((d) => d.serial)
      .filter(Boolean)
      .sort(),
  };
  return createHash("sha256").update(canonicalJson(identity)).digest("hex");
}

export function documentHash(document: unknown): string {
  return createHash("sha256").update(canonicalJson(document)).digest("hex");
}

/** Reads the facts with systeminformation, loaded only here: the per-cycle exporters do not need it. */
export async function readFactSources(): Promise<FactSources> {
  const si = (await import("systeminformation")).default;
  const [os, cpu, mem, system, interfaces, disks, graphics] = await Promise.all([
    si.osInfo(),
    si.cpu(),
    si.mem(),
    si.system(),
    si.networkInterfaces(),
    si.diskLayout().catch(() => []),
    si.graphics().catch(() => ({ controllers: [] })),
  ]);
  return {
    os,
    cpu,
    mem,
    system,
    interfaces: Array.isArray(interfaces) ? interfaces : [interfaces],
    disks,
    gpus: graphics.controllers,
  };
}

import { Random } from "./lib/random.js";

/** A field a post changed: the path the differ reports for it, and how to put the old value back. */
export interface Change {
  path: string;
  undo(): void;
}

interface Interface {
  name: string;
  mac: string;
  mtu: number;
  speed_mbps: number;
  addresses: { family: string; address: string; prefix: number }[];
  rx_bytes: number;
  tx_bytes: number;
  zone: string;
}

interface Module {
  id: string;
  name: string;
  version: string;
  image: string;
  node_id: number;
  instances: number;
  enabled: boolean;
  updated: string;
}

interface Facts {
  distro: { name: string; version: string; family: string; codename: string };
  kernel: { release: string; arch: string };
  processors: { count: number; cores: number; threads: number; model: string; frequency_mhz: number; flags: string[] };
  memory: {
    total_bytes: number;
    used_bytes: number;
    available_bytes: number;
    swap: { total_bytes: number; used_bytes: number };
  };
  product: { name: string; manufacturer: string; serial: string };
  virtual: string;
  pci: { slot: string; vendor: string; device: string; driver: string }[];
  mounts: { path: string; device: string; fstype: string; total_bytes: number; used_bytes: number }[];
  network: { hostname: string; fqdn: string; gateway: string; dns: string[]; interfaces: Interface[] };
  modules: Module[];
  features: {
    firewall: { enabled: boolean; rules: number; zones: string[]; policy: string };
    certificates: { name: string; issuer: string; expires: string }[];
    backups: { enabled: boolean; destination: string; last_run: string; retention_days: number };
    ipsec: { tunnels: number };
    wireguard: { servers: number; peers: number };
    openvpn: { enabled: boolean; clients: number };
    snort: { enabled: boolean; policy: string };
  };
  uptime_seconds: number;
  package_updates_available: number;
}

export interface InventoryData {
  uuid: string;
  facts: Facts;
}

const CPU_FLAGS =
  "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch avx2 bmi1 bmi2 erms invpcid rdseed adx smap clflushopt sha_ni xsaveopt xsavec xgetbv1 arat umip vaes vpclmulqdq rdpid".split(
    " ",
  );
const MODULE_NAMES =
  "mail nethvoice webtop nextcloud samba openldap traefik loki grafana prometheus collabora ejabberd roundcube dokuwiki mattermost piler sogo zabbix crowdsec netdata dnsmasq nginx".split(
    " ",
  );
const DRIVERS = ["virtio-pci", "e1000e", "ahci", "xhci_hcd", "i915", "nvme", "igb", "ixgbe"];
const GiB = 1024 ** 3;

const ip = (random: Random) => `10.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`;
const mac = (random: Random) => random.hex(12).replace(/(..)(?!$)/g, "$1:");
const day = (random: Random) => new Date(Date.UTC(2026, random.int(0, 11), random.int(1, 28))).toISOString();

/**
 * One simulated system: a realistic collect `facts` document of about 10 KB, and the small changes a real system
 * sends between two pushes (counters, a module upgrade, a new OS point release). Everything derives from the seed
 * and the system's index, so two runs post the same documents in the same order.
 */
export class SimulatedSystem {
  readonly data: InventoryData;
  private readonly random: Random;

  constructor(
    readonly name: string,
    index: number,
    seed: number,
  ) {
    this.random = new Random(seed * 1_000_003 + index);
    const r = this.random;
    const total = r.pick([8, 16, 32, 64, 128]) * GiB;
    const used = Math.floor(total * (0.2 + r.next() * 0.6));
    this.data = {
      uuid: `${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}`,
      facts: {
        distro: { name: "rocky", version: `9.${r.int(0, 4)}`, family: "rhel", codename: "Blue Onyx" },
        kernel: { release: `5.14.0-${r.int(300, 500)}.el9.x86_64`, arch: "x86_64" },
        processors: {
          count: r.pick([1, 2]),
          cores: r.pick([2, 4, 8, 16]),
          threads: r.pick([4, 8, 16, 32]),
          model: r.pick(["Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", "AMD EPYC 7443P 24-Core Processor"]),
          frequency_mhz: r.int(2000, 3600),
          flags: CPU_FLAGS.filter(() => r.next() < 0.9),
        },
        memory: {
          total_bytes: total,
          used_bytes: used,
          available_bytes: total - used,
          swap: { total_bytes: 4 * GiB, used_bytes: r.int(0, GiB) },
        },
        product: {
          name: r.pick(["KVM", "PowerEdge R650", "ProLiant DL360 Gen10"]),
          manufacturer: r.pick(["QEMU", "Dell Inc.", "HPE"]),
          serial: r.hex(16).toUpperCase(),
        },
        virtual: r.pick(["kvm", "vmware", "physical"]),
        pci: Array.from({ length: 16 }, (_, i) => ({
          slot: `0000:00:${(i + 1).toString(16).padStart(2, "0")}.0`,
          vendor: r.pick(["Intel Corporation", "Red Hat, Inc.", "Broadcom Inc."]),
          device: `device ${r.hex(4)}`,
          driver: r.pick(DRIVERS),
        })),
        mounts: ["/", "/boot", "/var", "/var/lib/nethserver", "/home", "/srv"].map((path, i) => ({
          path,
          device: `/dev/vda${i + 1}`,
          fstype: i === 1 ? "ext4" : "xfs",
          total_bytes: r.int(1, 500) * GiB,
          used_bytes: r.int(0, GiB * 50),
        })),
        network: {
          hostname: name,
          fqdn: `${name}.fleet.example.org`,
          gateway: ip(r),
          dns: [ip(r), ip(r)],
          interfaces: ["eth0", "eth1", "eth2", "eth3", "bond0", "vlan10", "wg0", "tun0"].map((ifname, i) => ({
            name: ifname,
            mac: mac(r),
            mtu: ifname === "wg0" ? 1420 : 1500,
            speed_mbps: r.pick([1000, 10000]),
            addresses: [
              { family: "inet", address: ip(r), prefix: 24 },
              { family: "inet6", address: `fe80::${r.hex(4)}:${r.hex(4)}:${r.hex(4)}:${r.hex(4)}`, prefix: 64 },
            ],
            rx_bytes: r.int(0, 2 ** 40),
            tx_bytes: r.int(0, 2 ** 40),
            zone: i === 0 ? "red" : i < 3 ? "green" : "blue",
          })),
        },
        modules: MODULE_NAMES.map((module, i) => ({
          id: `${module}${(i % 3) + 1}`,
          name: module,
          version: `${r.int(1, 3)}.${r.int(0, 9)}.${r.int(0, 20)}`,
          image: `ghcr.io/nethserver/${module}`,
          node_id: r.int(1, 3),
          instances: r.int(1, 4),
          enabled: r.next() < 0.9,
          updated: day(r),
        })),
        features: {
          firewall: { enabled: true, rules: r.int(5, 200), zones: ["red", "green", "blue"], policy: "drop" },
          certificates: Array.from({ length: 3 }, (_, i) => ({
            name: `cert-${i}.${name}.fleet.example.org`,
            issuer: "R11",
            expires: day(r),
          })),
          backups: {
            enabled: true,
            destination: "s3://backups",
            last_run: day(r),
            retention_days: r.pick([7, 14, 30]),
          },
          ipsec: { tunnels: r.int(0, 8) },
          wireguard: { servers: r.int(0, 2), peers: r.int(0, 40) },
          openvpn: { enabled: r.next() < 0.5, clients: r.int(0, 30) },
          snort: { enabled: r.next() < 0.5, policy: "balanced" },
        },
        uptime_seconds: r.int(0, 10_000_000),
        package_updates_available: r.int(0, 50),
      },
    };
  }

  /**
   * Changes 1–3 different fields, each a scalar the differ reports as exactly one update at the returned path, so
   * the bench knows how many diffs every accepted post must produce.
   */
  mutate(): Change[] {
    return this.random
      .distinct(this.random.int(1, 3), MUTATORS.length)
      .map((i) => (MUTATORS[i] as Mutator)(this.data.facts, this.random));
  }
}

type Mutator = (facts: Facts, random: Random) => Change;

/** `next` must never return the current value: a post that changes nothing would be a duplicate, not a record. */
function change<T extends object, K extends keyof T & string>(
  path: string,
  object: T,
  key: K,
  next: (current: T[K]) => T[K],
): Change {
  const previous = object[key];
  object[key] = next(previous);
  return {
    path,
    undo: () => {
      object[key] = previous;
    },
  };
}

const bump = (version: string) => {
  const parts = version.split(".").map(Number);
  parts[parts.length - 1] = (parts.at(-1) ?? 0) + 1;
  return parts.join(".");
};

const MUTATORS: Mutator[] = [
  (f, r) => change("facts.uptime_seconds", f, "uptime_seconds", (v) => v + r.int(1, 600)),
  (f, r) => change("facts.memory.used_bytes", f.memory, "used_bytes", (v) => v + r.int(1, 1 << 24)),
  (f, r) =>
    change("facts.memory.available_bytes", f.memory, "available_bytes", (v) =>
      v > 1 << 25 ? v - r.int(1, 1 << 24) : v + GiB,
    ),
  (f, r) => change("facts.package_updates_available", f, "package_updates_available", (v) => (v + r.int(1, 5)) % 60),
  (f, r) => change("facts.features.firewall.rules", f.features.firewall, "rules", (v) => v + r.int(1, 3)),
  (f, r) =>
    change("facts.features.backups.last_run", f.features.backups, "last_run", (v) =>
      new Date(Date.parse(v) + r.int(1, 48) * 3_600_000).toISOString(),
    ),
  (f, r) => {
    const i = r.int(0, f.network.interfaces.length - 1);
    return change(
      `facts.network.interfaces.${i}.rx_bytes`,
      f.network.interfaces[i] as Interface,
      "rx_bytes",
      (v) => v + r.int(1, 1 << 30),
    );
  },
  (f, r) => {
    const i = r.int(0, f.mounts.length - 1);
    const mount = f.mounts[i] as Facts["mounts"][number];
    return change(`facts.mounts.${i}.used_bytes`, mount, "used_bytes", (v) => v + r.int(1, 1 << 20));
  },
  (f, r) => {
    const module = r.pick(f.modules);
    return change(`facts.modules.${module.id}.version`, module, "version", bump);
  },
  (f) => change("facts.distro.version", f.distro, "version", bump),
];

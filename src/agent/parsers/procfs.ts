// Pure readers of the Linux /proc files the os exporter samples. Reading them directly costs a few file reads per
// cycle; systeminformation's equivalents spawn `df` and compute aggregates the wire format does not want.

/** Aggregate CPU jiffies from /proc/stat's first line: idle (idle + iowait) and total. */
export function parseProcStat(text: string): { idle: number; total: number } | undefined {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice — guest time is already inside user/nice.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((sum, n) => sum + n, 0);
  return { idle, total };
}

export function cpuUsagePercent(before: { idle: number; total: number }, after: { idle: number; total: number }) {
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return Math.min(100, Math.max(0, (1 - (after.idle - before.idle) / total) * 100));
}

/** /proc/meminfo in bytes: total and available (MemAvailable, the kernel's estimate of what can be allocated). */
export function parseMeminfo(text: string): { total: number; available: number } | undefined {
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kib("MemTotal");
  const available = kib("MemAvailable") ?? sum(kib("MemFree"), kib("Buffers"), kib("Cached"));
  return total === undefined || available === undefined ? undefined : { total, available };
}

function sum(...values: (number | undefined)[]): number | undefined {
  return values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0);
}

// Whole disks only (partitions and device-mapper/md layers would count the same bytes twice in a sum);
// loop, RAM and optical devices are not storage worth charting.
const DISK = /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

/** Bytes read and written per whole disk from /proc/diskstats (sectors there are always 512 bytes). */
export function parseDiskstats(text: string): { device: string; read: number; written: number }[] {
  const disks: { device: string; read: number; written: number }[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !DISK.test(f[2] as string)) continue;
    disks.push({ device: f[2] as string, read: Number(f[5]) * 512, written: Number(f[9]) * 512 });
  }
  return disks;
}

const VIRTUAL_INTERFACE = /^(lo|docker|veth|br-|virbr|tun|tap)/;

/** Received and transmitted bytes per physical interface from /proc/net/dev. */
export function parseNetDev(text: string): { iface: string; rx: number; tx: number }[] {
  const interfaces: { iface: string; rx: number; tx: number }[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (!iface || VIRTUAL_INTERFACE.test(iface) || f.length < 9) continue;
    interfaces.push({ iface, rx: Number(f[0]), tx: Number(f[8]) });
  }
  return interfaces;
}

// Local, disk-backed filesystems. Network filesystems are left out on purpose: statfs on a dead NFS server hangs.
const LOCAL_FS = new Set([
  "ext2",
  "ext3",
  "ext4",
  "xfs",
  "btrfs",
  "zfs",
  "f2fs",
  "vfat",
  "exfat",
  "ntfs",
  "ntfs3",
  "jfs",
  "reiserfs",
]);

/** Mount points of local filesystems from /proc/self/mounts, first mount of each device only (bind mounts repeat). */
export function parseMounts(text: string): string[] {
  const devices = new Set<string>();
  const points: string[] = [];
  for (const line of text.split("\n")) {
    const [device, mountpoint, type] = line.split(" ");
    if (!device || !mountpoint || !type || !LOCAL_FS.has(type) || devices.has(device)) continue;
    devices.add(device);
    // /proc/mounts escapes space, tab, newline and backslash as octal.
    points.push(
      mountpoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    );
  }
  return points;
}

import type { DifferOptions } from "./differ.js";
import type { RuleSettings } from "./rules.js";

/** A keyword matching a whole path segment, so `facts.last_error` is not an `error`. */
const segment = (alternatives: string): string => `(^|\\.)(${alternatives})(\\.|$)`;

/**
 * collect's tables. Categories are first-match-wins, so the specific rules come
 * first: backup before cluster, security/network/backup before features, node
 * hardware before nodes.
 */
export const DEFAULT_RULE_SETTINGS: RuleSettings = {
  categories: [
    { name: "modules", patterns: ["^facts\\.modules"] },
    { name: "backup", patterns: ["^facts\\.cluster\\.backup", "^facts\\.features\\.backups"] },
    { name: "cluster", patterns: ["^facts\\.cluster"] },
    {
      name: "hardware",
      patterns: [
        "^facts\\.(processors|memory|product|virtual|pci)",
        "^facts\\.nodes\\.[^.]+\\.(processors|memory|product|virtual|pci|distro)",
      ],
    },
    { name: "nodes", patterns: ["^facts\\.nodes"] },
    { name: "os", patterns: ["^facts\\.distro"] },
    { name: "network", patterns: ["^facts\\.network", "^facts\\.features\\.network"] },
    {
      name: "security",
      patterns: ["^facts\\.features\\.(certificates|firewall|ipsec|openvpn|wireguard|snort|threat_shield|crowdsec)"],
    },
    { name: "features", patterns: ["^facts\\.features"] },
  ],
  default_category: "system",
  severity: [
    {
      level: "critical",
      delete: ["^facts\\.(nodes|processors|memory|network|features)"],
      create: [segment("error|failed|critical")],
    },
    {
      level: "high",
      update: [
        "^facts\\.distro\\.version",
        "^facts\\.modules\\.[^.]+\\.version",
        "^facts\\.nodes\\.[^.]+\\.version",
        "^facts\\.cluster\\.(subscription|fqdn|public_ip)",
        "^facts\\.features\\.certificates",
      ],
      create: ["^facts\\.modules", segment("warning|alert")],
      delete: ["^facts\\.modules"],
    },
    {
      level: "medium",
      update: ["^facts\\.(features|cluster)"],
      create: [segment("info|notice")],
    },
    {
      level: "low",
      update: ["used_bytes", "available_bytes", "total_bytes", "^facts\\.pci", "^uuid$", "uptime_seconds"],
      create: [segment("debug|trace")],
    },
  ],
  numeric_change_percent: 20,
  significance: {
    never: [
      "uptime_seconds",
      "used_bytes",
      "available_bytes",
      "total_bytes",
      "^facts\\.pci",
      "^uuid$",
      "metrics\\.timestamp",
      "performance\\.last_update",
      "monitoring\\.heartbeat",
      "dynamic_leases",
      "static_leases",
      "dhcp_server\\.count",
      "dns_records_count",
      "memory_info",
      "package_updates_available",
      "update_available",
    ],
    thresholds: [{ pattern: "^facts\\.memory", min_change_percent: 5 }],
    always_severities: ["critical", "high"],
    always_categories: ["modules", "cluster", "nodes", "hardware", "network", "security"],
    always_change_types: ["delete"],
    default_min_severity: "medium",
  },
};

/** collect's limits and array identity table. */
export const DEFAULT_DIFFER_OPTIONS: DifferOptions = {
  maxDepth: 10,
  maxPathLength: 500,
  maxDiffs: 1000,
  arrayIdentity: [
    { path: "facts.modules", key: "id" },
    { path: "facts.nodes", key: "ui_name" },
    { path: "facts.cluster.user_domains", key: "name" },
    { path: "facts.features.network.zones", key: "name" },
    { path: "facts.features.wireguard.statistics", key: "server" },
  ],
};

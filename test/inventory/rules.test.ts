import { describe, expect, it } from "vitest";
import { DEFAULT_RULE_SETTINGS } from "../../src/inventory/default-rules.js";
import type { ChangeType, RawChange } from "../../src/inventory/differ.js";
import { type RuleSettings, RuleError, classify, compileRules } from "../../src/inventory/rules.js";

const rules = compileRules(DEFAULT_RULE_SETTINGS);

const change = (path: string, type: ChangeType, previous: unknown = null, current: unknown = null): RawChange => ({
  path,
  type,
  previous,
  current,
});

const severityOf = (path: string, type: ChangeType, previous?: unknown, current?: unknown) =>
  classify(change(path, type, previous, current), rules).severity;

const categoryOf = (path: string) => classify(change(path, "update", 1, 2), rules).category;

describe("severity (public cases)", () => {
  it.each([
    ["facts.nodes.0.id", "delete", undefined, undefined, "critical"],
    ["facts.distro.version", "update", "9.4", "9.5", "high"],
    ["facts.modules.1", "create", undefined, { id: "x" }, "high"],
    ["facts.cluster.label", "update", "a", "b", "medium"],
    ["facts.features.docker.enabled", "update", false, true, "medium"],
    ["facts.memory.swap.used_bytes", "update", 1, 2, "low"],
    ["custom.field", "update", 100, 150, "medium"],
    ["custom.field", "update", 100, 105, "low"],
  ] as const)("%s %s → %s", (path, type, previous, current, expected) => {
    expect(severityOf(path, type, previous, current)).toBe(expected);
  });

  it("matches keywords only as whole path segments", () => {
    expect(severityOf("facts.last_error", "create", null, "boom")).toBe("low");
    expect(severityOf("facts.error", "create", null, "boom")).toBe("critical");
    expect(severityOf("facts.services.failed.count", "create", null, 1)).toBe("critical");
    expect(severityOf("facts.alert", "create", null, 1)).toBe("high");
    expect(severityOf("facts.notice.x", "create", null, 1)).toBe("medium");
    expect(severityOf("logs.trace", "create", null, 1)).toBe("low");
    expect(severityOf("facts.informational", "create", null, 1)).toBe("low");
  });

  it("matches the lowercased path", () => {
    expect(severityOf("Facts.Distro.VERSION", "update", "1", "2")).toBe("high");
  });

  it("uses the patterns of the change's type only", () => {
    expect(severityOf("facts.nodes.0.id", "update", "a", "b")).toBe("low");
    expect(severityOf("facts.modules.x", "delete", {}, null)).toBe("high");
    expect(severityOf("facts.modules.x.version", "update", "1", "2")).toBe("high");
    expect(severityOf("facts.nodes.n1.version", "update", "1", "2")).toBe("high");
  });

  it("falls back to the numeric change", () => {
    expect(severityOf("custom.field", "update", 0, 3)).toBe("medium");
    expect(severityOf("custom.field", "update", 100, 120)).toBe("low");
    expect(severityOf("custom.field", "update", 100, 79)).toBe("medium");
    expect(severityOf("custom.field", "update", -10, -13)).toBe("medium");
    expect(severityOf("custom.field", "update", "100", "150")).toBe("low");
    expect(severityOf("custom.field", "create", null, 5)).toBe("low");
  });
});

describe("categories", () => {
  it.each([
    ["facts.modules.nextcloud1.version", "modules"],
    ["facts.cluster.label", "cluster"],
    ["facts.cluster.backup.x", "backup"],
    ["facts.features.backups.destinations", "backup"],
    ["facts.nodes.1.version", "nodes"],
    ["facts.nodes.1.memory.total", "hardware"],
    ["facts.nodes.1.distro.name", "hardware"],
    ["facts.processors.count", "hardware"],
    ["facts.pci.0.vendor", "hardware"],
    ["facts.distro.version", "os"],
    ["facts.network.interfaces", "network"],
    ["facts.features.network.zones", "network"],
    ["facts.features.wireguard.x", "security"],
    ["facts.features.certificates.0", "security"],
    ["facts.features.docker.enabled", "features"],
    ["custom.field", "system"],
    ["metrics.facts.modules", "system"],
  ])("%s → %s", (path, expected) => {
    expect(categoryOf(path)).toBe(expected);
  });

  it("takes the first matching rule in table order", () => {
    const settings: RuleSettings = {
      ...DEFAULT_RULE_SETTINGS,
      categories: [
        { name: "first", patterns: ["^a"] },
        { name: "second", patterns: ["^a\\.b"] },
      ],
      default_category: "other",
    };
    const custom = compileRules(settings);
    expect(classify(change("a.b.c", "update", 1, 2), custom).category).toBe("first");
    expect(classify(change("z", "update", 1, 2), custom).category).toBe("other");
  });
});

describe("significance", () => {
  const classifyChange = (path: string, type: ChangeType, previous: unknown, current: unknown) =>
    classify(change(path, type, previous, current), rules);

  it("never marks noise as significant, even on critical-looking paths", () => {
    expect(classifyChange("facts.nodes.1.used_bytes", "delete", 5, null)).toEqual({
      category: "nodes",
      severity: "critical",
      significant: false,
    });
    expect(classifyChange("facts.error.update_available", "create", null, true)).toEqual({
      category: "system",
      severity: "critical",
      significant: false,
    });
  });

  it("applies value thresholds before the always-significant categories", () => {
    expect(classifyChange("facts.memory.total", "update", 1000, 1020)).toEqual({
      category: "hardware",
      severity: "low",
      significant: false,
    });
    expect(classifyChange("facts.memory.total", "update", 1000, 1100)).toEqual({
      category: "hardware",
      severity: "low",
      significant: true,
    });
    expect(classifyChange("facts.memory.total", "update", 0, 1)).toEqual({
      category: "hardware",
      severity: "medium",
      significant: true,
    });
    expect(classifyChange("facts.memory.label", "update", "a", "b")).toEqual({
      category: "hardware",
      severity: "low",
      significant: true,
    });
  });

  it("treats deletes, high severities and listed categories as significant", () => {
    expect(classifyChange("custom.thing", "delete", 1, null)).toEqual({
      category: "system",
      severity: "low",
      significant: true,
    });
    expect(classifyChange("facts.distro.version", "update", "1", "2")).toEqual({
      category: "os",
      severity: "high",
      significant: true,
    });
    expect(classifyChange("facts.network.mtu", "update", 1500, 1501)).toEqual({
      category: "network",
      severity: "low",
      significant: true,
    });
  });

  it("gates everything else on default_min_severity", () => {
    expect(classifyChange("custom.field", "update", 100, 105)).toEqual({
      category: "system",
      severity: "low",
      significant: false,
    });
    expect(classifyChange("custom.field", "update", 100, 150)).toEqual({
      category: "system",
      severity: "medium",
      significant: true,
    });
    expect(classifyChange("facts.features.docker.enabled", "update", false, true)).toEqual({
      category: "features",
      severity: "medium",
      significant: true,
    });
  });

  it("classifies the truncation marker as insignificant system noise", () => {
    expect(
      classify({ path: "$truncated", type: "truncated", previous: null, current: { omitted: 3, limit: 2 } }, rules),
    ).toEqual({ category: "system", severity: "medium", significant: false });
  });

  it("is deterministic", () => {
    const input = change("facts.features.network.zones.lan", "update", "a", "b");
    const again = compileRules(structuredClone(DEFAULT_RULE_SETTINGS));
    expect(classify(input, again)).toEqual(classify(input, rules));
    expect(classify(input, rules)).toEqual({ category: "network", severity: "medium", significant: true });
  });
});

describe("compileRules", () => {
  const withCategories = (categories: RuleSettings["categories"]): RuleSettings => ({
    ...DEFAULT_RULE_SETTINGS,
    categories,
  });

  it("names the table, index and pattern of an invalid regex", () => {
    const settings = withCategories([
      { name: "a", patterns: ["x"] },
      { name: "b", patterns: ["y"] },
      { name: "c", patterns: ["z"] },
      { name: "network", patterns: ["ok", "facts\\.("] },
    ]);
    expect(() => compileRules(settings)).toThrow(RuleError);
    expect(() => compileRules(settings)).toThrow(
      /^categories\[3\] "network": invalid regular expression "facts\\\.\(": /,
    );
  });

  it("reports invalid severity, threshold and never patterns", () => {
    const base = DEFAULT_RULE_SETTINGS;
    expect(() => compileRules({ ...base, severity: [{ level: "critical", update: ["ok", "["] }] })).toThrow(
      /^severity\[0\] "critical" update\[1\]: invalid regular expression "\["/,
    );
    expect(() =>
      compileRules({
        ...base,
        significance: { ...base.significance, thresholds: [{ pattern: "(", min_change_percent: 5 }] },
      }),
    ).toThrow(/^significance\.thresholds\[0\]: invalid regular expression "\("/);
    expect(() => compileRules({ ...base, significance: { ...base.significance, never: ["a", "b", "*"] } })).toThrow(
      /^significance\.never\[2\]: invalid regular expression "\*"/,
    );
  });

  it("rejects unknown levels and bad percentages from untyped settings", () => {
    const base = DEFAULT_RULE_SETTINGS;
    const untyped = (settings: unknown) => () => compileRules(settings as RuleSettings);
    expect(untyped({ ...base, severity: [{ level: "urgent" }] })).toThrow('severity[0]: unknown severity "urgent"');
    expect(untyped({ ...base, significance: { ...base.significance, default_min_severity: "huge" } })).toThrow(
      'significance.default_min_severity: unknown severity "huge"',
    );
    expect(untyped({ ...base, numeric_change_percent: -1 })).toThrow(RuleError);
    expect(
      untyped({
        ...base,
        significance: { ...base.significance, thresholds: [{ pattern: "x", min_change_percent: "5" }] },
      }),
    ).toThrow("significance.thresholds[0].min_change_percent");
  });
});

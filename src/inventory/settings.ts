import type { Settings } from "../config/schema.js";
import { DEFAULT_DIFFER_OPTIONS, DEFAULT_RULE_SETTINGS } from "./default-rules.js";
import type { DifferOptions } from "./differ.js";
import { DEFAULT_RETENTION_TIERS, type RetentionTier } from "./retention.js";
import { type CompiledRules, compileRules, type RuleSettings } from "./rules.js";

/** The rule tables from settings, each falling back to collect's table when the settings file leaves it out. */
export function ruleSettings(settings: Settings): RuleSettings {
  const inv = settings.inventory;
  const sig = inv.significance;
  const d = DEFAULT_RULE_SETTINGS;
  return {
    categories: inv.categories ?? d.categories,
    default_category: inv.default_category,
    severity: inv.severity ?? d.severity,
    numeric_change_percent: inv.numeric_change_percent,
    significance: {
      never: sig.never ?? d.significance.never,
      thresholds: sig.thresholds ?? d.significance.thresholds,
      always_severities: sig.always_severities ?? d.significance.always_severities,
      always_categories: sig.always_categories ?? d.significance.always_categories,
      always_change_types: sig.always_change_types ?? d.significance.always_change_types,
      default_min_severity: sig.default_min_severity,
    },
  };
}

export function differOptions(settings: Settings): DifferOptions {
  const differ = settings.inventory.differ;
  return {
    maxDepth: differ.max_depth,
    maxPathLength: differ.max_path_length,
    maxDiffs: differ.max_diffs,
    arrayIdentity: settings.inventory.array_identity ?? DEFAULT_DIFFER_OPTIONS.arrayIdentity,
  };
}

export function retentionTiers(settings: Settings): RetentionTier[] {
  return settings.inventory.retention_tiers ?? DEFAULT_RETENTION_TIERS;
}

export interface InventoryRules {
  rules: CompiledRules;
  differ: DifferOptions;
}

/** Compiles the rule tables once at start; a bad pattern throws a RuleError naming it. */
export function inventoryRules(settings: Settings): InventoryRules {
  return { rules: compileRules(ruleSettings(settings)), differ: differOptions(settings) };
}

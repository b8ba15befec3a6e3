import type { ChangeType, RawChange } from "./differ.js";

export type Severity = "critical" | "high" | "medium" | "low";

export interface CategoryRule {
  name: string;
  patterns: string[];
}

export interface SeverityLevelRule {
  level: Severity;
  create?: string[];
  update?: string[];
  delete?: string[];
}

export interface ThresholdRule {
  pattern: string;
  min_change_percent: number;
}

export interface RuleSettings {
  categories: CategoryRule[];
  default_category: string;
  /** Checked in array order; the first level with a matching pattern wins. */
  severity: SeverityLevelRule[];
  /** Severity when no rule matched: a larger numeric change (or 0 → non-zero) is medium, else low. */
  numeric_change_percent: number;
  significance: {
    never: string[];
    thresholds: ThresholdRule[];
    always_severities: string[];
    always_categories: string[];
    always_change_types: string[];
    default_min_severity: Severity;
  };
}

export interface Classification {
  category: string;
  severity: Severity;
  significant: boolean;
}

export type DiffType = Exclude<ChangeType, "truncated">;

export interface CompiledRules {
  readonly categories: readonly { readonly name: string; readonly patterns: readonly RegExp[] }[];
  readonly defaultCategory: string;
  readonly severity: readonly {
    readonly level: Severity;
    readonly patterns: Readonly<Record<DiffType, readonly RegExp[]>>;
  }[];
  readonly numericChangePercent: number;
  readonly never: readonly RegExp[];
  readonly thresholds: readonly { readonly pattern: RegExp; readonly minChangePercent: number }[];
  readonly alwaysSeverities: ReadonlySet<string>;
  readonly alwaysCategories: ReadonlySet<string>;
  readonly alwaysChangeTypes: ReadonlySet<string>;
  readonly defaultMinSeverity: Severity;
}

export class RuleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RuleError";
  }
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

const TRUNCATION_CLASSIFICATION: Readonly<Classification> = {
  category: "system",
  severity: "medium",
  significant: false,
};

function isSeverity(value: unknown): value is Severity {
  return typeof value === "string" && Object.hasOwn(SEVERITY_RANK, value);
}

function compilePattern(pattern: string, where: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RuleError(`${where}: invalid regular expression "${pattern}": ${reason}`, { cause: error });
  }
}

function compilePatterns(patterns: readonly string[], where: (index: number) => string): RegExp[] {
  return patterns.map((pattern, index) => compilePattern(pattern, where(index)));
}

function requirePercent(value: number, where: string): number {
  if (!Number.isFinite(value) || value < 0)
    throw new RuleError(`${where}: must be a non-negative number, got ${value}`);
  return value;
}

function requireSeverity(value: unknown, where: string): Severity {
  if (!isSeverity(value)) throw new RuleError(`${where}: unknown severity "${String(value)}"`);
  return value;
}

/**
 * Validates and compiles rule tables. They come from the settings file, so the
 * declared types are not trusted: every regex, level and percentage is checked here
 * and reported with the table and index that hold it.
 */
export function compileRules(settings: RuleSettings): CompiledRules {
  const { significance } = settings;
  return {
    categories: settings.categories.map((rule, index) => ({
      name: rule.name,
      patterns: compilePatterns(rule.patterns, () => `categories[${index}] "${rule.name}"`),
    })),
    defaultCategory: settings.default_category,
    severity: settings.severity.map((rule, index) => {
      const where = `severity[${index}]`;
      const level = requireSeverity(rule.level, where);
      return {
        level,
        patterns: {
          create: compilePatterns(rule.create ?? [], (i) => `${where} "${level}" create[${i}]`),
          update: compilePatterns(rule.update ?? [], (i) => `${where} "${level}" update[${i}]`),
          delete: compilePatterns(rule.delete ?? [], (i) => `${where} "${level}" delete[${i}]`),
        },
      };
    }),
    numericChangePercent: requirePercent(settings.numeric_change_percent, "numeric_change_percent"),
    never: compilePatterns(significance.never, (i) => `significance.never[${i}]`),
    thresholds: significance.thresholds.map((rule, index) => {
      const where = `significance.thresholds[${index}]`;
      return {
        pattern: compilePattern(rule.pattern, where),
        minChangePercent: requirePercent(rule.min_change_percent, `${where}.min_change_percent`),
      };
    }),
    alwaysSeverities: new Set(
      significance.always_severities.map((level, index) =>
        requireSeverity(level, `significance.always_severities[${index}]`),
      ),
    ),
    alwaysCategories: new Set(significance.always_categories),
    alwaysChangeTypes: new Set(significance.always_change_types),
    defaultMinSeverity: requireSeverity(significance.default_min_severity, "significance.default_min_severity"),
  };
}

/** Relative change in percent, or undefined unless both sides are numbers. */
function changePercent(previous: unknown, current: unknown): number | undefined {
  if (typeof previous !== "number" || typeof current !== "number") return undefined;
  if (previous === 0) return current === 0 ? 0 : 100;
  return (Math.abs(current - previous) / Math.abs(previous)) * 100;
}

function severityOf(type: DiffType, path: string, change: RawChange, rules: CompiledRules): Severity {
  const matched = rules.severity.find((rule) => rule.patterns[type].some((pattern) => pattern.test(path)));
  if (matched) return matched.level;
  const percent = changePercent(change.previous, change.current);
  if (percent === undefined) return "low";
  const grew = change.previous === 0 ? change.current !== 0 : percent > rules.numericChangePercent;
  return grew ? "medium" : "low";
}

/**
 * Order matters and is deliberate:
 * 1. `never` patterns: pure noise, even on paths that look critical;
 * 2. value thresholds: small numeric drift is not news even in always-significant
 *    categories (collect evaluated these after the "always" rules, so they never fired);
 * 3. always-significant severities, categories and change types;
 * 4. otherwise significant iff severity reaches `default_min_severity`.
 */
function isSignificant(
  type: DiffType,
  path: string,
  change: RawChange,
  category: string,
  severity: Severity,
  rules: CompiledRules,
): boolean {
  if (rules.never.some((pattern) => pattern.test(path))) return false;
  const percent = changePercent(change.previous, change.current);
  if (
    percent !== undefined &&
    rules.thresholds.some((rule) => rule.pattern.test(path) && percent < rule.minChangePercent)
  ) {
    return false;
  }
  if (
    rules.alwaysSeverities.has(severity) ||
    rules.alwaysCategories.has(category) ||
    rules.alwaysChangeTypes.has(type)
  ) {
    return true;
  }
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[rules.defaultMinSeverity];
}

export function classify(change: RawChange, rules: CompiledRules): Classification {
  if (change.type === "truncated") return { ...TRUNCATION_CLASSIFICATION };
  const path = change.path.toLowerCase();
  const category =
    rules.categories.find((rule) => rule.patterns.some((pattern) => pattern.test(path)))?.name ?? rules.defaultCategory;
  const severity = severityOf(change.type, path, change, rules);
  return { category, severity, significant: isSignificant(change.type, path, change, category, severity, rules) };
}

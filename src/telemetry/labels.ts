/**
 * Metric names and label sets: validation, the canonical stored form, and the label filters of the query API.
 * Pure: no I/O.
 */

export const MAX_METRIC_NAME_LENGTH = 200;
export const MAX_LABELS = 32;
export const MAX_LABEL_VALUE_LENGTH = 1024;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type LabelSet = Record<string, string>;

/** Why a metric name is unacceptable, or undefined when it is fine. */
export function metricNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return "metric_name must be a string";
  if (name.length === 0 || name.length > MAX_METRIC_NAME_LENGTH) {
    return `metric_name must be 1 to ${MAX_METRIC_NAME_LENGTH} characters`;
  }
  if (!METRIC_NAME.test(name)) return `metric_name "${name}" does not match ${METRIC_NAME.source}`;
  return undefined;
}

/**
 * The stored form of a label set: JSON with keys sorted and every value a string, "{}" when there are none, so the
 * same set always maps to the same series whatever order or value types the agent used. A string is a problem.
 */
export function canonicalLabels(labels: unknown): { json: string } | { problem: string } {
  if (labels === null || labels === undefined) return { json: "{}" };
  if (typeof labels !== "object" || Array.isArray(labels)) return { problem: "labels must be an object or null" };
  const keys = Object.keys(labels);
  if (keys.length === 0) return { json: "{}" };
  if (keys.length > MAX_LABELS) return { problem: `more than ${MAX_LABELS} labels` };
  if (keys.length > 1) keys.sort();
  let json = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (!LABEL_NAME.test(key)) return { problem: `label name "${key}" does not match ${LABEL_NAME.source}` };
    const raw = (labels as Record<string, unknown>)[key];
    let value: string;
    if (typeof raw === "string") value = raw;
    else if (typeof raw === "boolean") value = raw ? "true" : "false";
    else if (typeof raw === "number" && Number.isFinite(raw)) value = String(raw);
    else return { problem: `label "${key}" must be a string, a finite number or a boolean` };
    if (value.length > MAX_LABEL_VALUE_LENGTH) {
      return { problem: `label "${key}" is longer than ${MAX_LABEL_VALUE_LENGTH} characters` };
    }
    json += `${i === 0 ? "" : ","}${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  return { json: `${json}}` };
}

/**
 * A label filter: a series matches when every pair of at least one alternative matches exactly. `{"a":"1"}` and
 * `a=1,b=2` give one alternative; a JSON array of objects (dcmon's form) gives one alternative per object.
 */
export type LabelFilter = LabelSet[];

export function parseLabelFilter(text: string): LabelFilter | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return { problem: "labels is neither valid JSON nor k=v,k2=v2" };
    }
    const alternatives = Array.isArray(parsed) ? parsed : [parsed];
    const filter: LabelFilter = [];
    for (const alternative of alternatives) {
      if (typeof alternative !== "object" || alternative === null || Array.isArray(alternative)) {
        return { problem: "labels must be a JSON object or an array of JSON objects" };
      }
      const set: LabelSet = {};
      for (const [key, value] of Object.entries(alternative)) {
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
          return { problem: `label filter "${key}" must be a string, number or boolean` };
        }
        set[key] = String(value);
      }
      filter.push(set);
    }
    return filter;
  }
  const set: LabelSet = {};
  for (const pair of trimmed.split(",")) {
    const eq = pair.indexOf("=");
    const key = eq > 0 ? pair.slice(0, eq).trim() : "";
    if (!LABEL_NAME.test(key)) return { problem: `labels: "${pair}" is not name=value` };
    set[key] = pair.slice(eq + 1).trim();
  }
  return [set];
}

export function matchesLabelFilter(labels: LabelSet, filter: LabelFilter): boolean {
  if (filter.length === 0) return true;
  return filter.some((alternative) => Object.entries(alternative).every(([key, value]) => labels[key] === value));
}

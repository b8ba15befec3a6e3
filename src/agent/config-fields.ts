// A small checker for agent.yml. TypeBox's builders and `typebox/value` cost the long-running agent ~8 MB of
// resident memory for one check at start-up; agent.yml needs only these few shapes. Every field knows its default,
// so a key that is absent takes it, and every problem is reported with the key's dotted path.

/** One key of agent.yml: checks a value (undefined when absent) and returns it or the default. */
export interface Field<T> {
  read(value: unknown, path: string, problems: string[]): T;
}

type Fields = Record<string, Field<unknown>>;
type Shape<F extends Fields> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

const quoted = (path: string) => `"${path || "(root)"}"`;
const child = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));
const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A closed mapping: a key it does not define is reported as unknown, so a misspelt key stops the agent. */
export function mapping<F extends Fields>(fields: F): Field<Shape<F>> {
  return {
    read(value, path, problems) {
      let given: Record<string, unknown> = {};
      if (isMapping(value)) given = value;
      else if (value !== undefined) problems.push(`${quoted(path)} must be a mapping`);
      for (const key of Object.keys(given)) {
        if (!Object.hasOwn(fields, key)) problems.push(`unknown key "${child(path, key)}"`);
      }
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(fields)) out[key] = field.read(given[key], child(path, key), problems);
      return out as Shape<F>;
    },
  };
}

/**
 * A string, required when `fallback` is undefined; `pattern` with `hint` (what the message says it must be),
 * `nonEmpty` for program names and paths.
 */
export function text(
  fallback: string | undefined,
  check: { pattern?: RegExp; hint?: string; nonEmpty?: boolean } = {},
): Field<string> {
  return {
    read(value, path, problems) {
      if (value === undefined && fallback === undefined) problems.push(`${quoted(path)} is required`);
      else if (value === undefined) return fallback ?? "";
      else if (typeof value !== "string") problems.push(`${quoted(path)} must be ${check.hint ?? "a string"}`);
      else if (check.nonEmpty && value === "") problems.push(`${quoted(path)} must not be empty`);
      else if (check.pattern && !check.pattern.test(value)) problems.push(`${quoted(path)} must be ${check.hint}`);
      else return value;
      return fallback ?? "";
    },
  };
}

export function flag(fallback: boolean): Field<boolean> {
  return {
    read(value, path, problems) {
      if (value === undefined) return fallback;
      if (typeof value === "boolean") return value;
      problems.push(`${quoted(path)} must be true or false`);
      return fallback;
    },
  };
}

export function integer(fallback: number, minimum: number): Field<number> {
  return {
    read(value, path, problems) {
      if (value === undefined) return fallback;
      if (typeof value !== "number" || !Number.isInteger(value)) problems.push(`${quoted(path)} must be an integer`);
      else if (value < minimum) problems.push(`${quoted(path)} must be >= ${minimum}`);
      else return value;
      return fallback;
    },
  };
}

export function oneOf<const T extends string>(choices: readonly T[], fallback: NoInfer<T>): Field<T> {
  return {
    read(value, path, problems) {
      if (value === undefined) return fallback;
      if (choices.includes(value as T)) return value as T;
      problems.push(`${quoted(path)} must be one of ${choices.join(", ")}`);
      return fallback;
    },
  };
}

/** A list (default empty) whose items are each checked by `item`. */
export function list<T>(item: Field<T>): Field<T[]> {
  return {
    read(value, path, problems) {
      if (value === undefined) return [];
      if (!Array.isArray(value)) {
        problems.push(`${quoted(path)} must be a list`);
        return [];
      }
      return value.map((entry, i) => item.read(entry, child(path, i), problems));
    },
  };
}

/** A mapping (default empty) of keys matching `keyPattern` to strings. */
export function stringMap(keyPattern: RegExp, keyHint: string): Field<Record<string, string>> {
  return {
    read(value, path, problems) {
      if (value === undefined) return {};
      if (!isMapping(value)) {
        problems.push(`${quoted(path)} must be a mapping`);
        return {};
      }
      const out: Record<string, string> = {};
      for (const [key, entry] of Object.entries(value)) {
        if (!keyPattern.test(key)) problems.push(`${quoted(child(path, key))}: a key must be ${keyHint}`);
        else if (typeof entry !== "string") problems.push(`${quoted(child(path, key))} must be a string`);
        else out[key] = entry;
      }
      return out;
    },
  };
}

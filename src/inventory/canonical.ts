import { createHash } from "node:crypto";

type Frame =
  | { kind: "array"; source: readonly unknown[]; next: number }
  | {
      kind: "object";
      source: Record<string, unknown>;
      keys: string[];
      next: number;
      written: boolean;
    };

function toJsonValue(value: unknown, key: string): unknown {
  if (typeof value === "object" && value !== null && "toJSON" in value) {
    const toJSON: unknown = value.toJSON;
    if (typeof toJSON === "function") return toJSON.call(value, key);
  }
  return value;
}

function hasNoJsonForm(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

// Documents of one fleet share most of their keys; quoting each anew was a tenth of the writer's time.
const QUOTED_KEYS_MAX = 10_000;
const quotedKeys = new Map<string, string>();

function quotedKey(name: string): string {
  let quoted = quotedKeys.get(name);
  if (quoted === undefined) {
    quoted = JSON.stringify(name);
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(name, quoted);
  }
  return quoted;
}

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}

/** Beyond this depth the recursive writer hands over to the iterative one, which cannot overflow the stack. */
const RECURSION_LIMIT = 512;

class TooDeepForRecursion extends Error {}

/**
 * JSON.stringify with sorted object keys, so that documents differing only in key
 * order or whitespace hash the same. Ordinary documents take a fast recursive path;
 * documents come from untrusted systems and may be nested deeper than the JS call
 * stack allows (or be cyclic), so those are walked again with an explicit stack.
 */
export function canonicalJson(value: unknown): string {
  try {
    const text = writeValue(value, "", 0);
    if (text === undefined) throw new TypeError("canonicalJson: value has no JSON representation");
    return text;
  } catch (err) {
    if (err instanceof TooDeepForRecursion) return canonicalJsonIterative(value);
    throw err;
  }
}

function writeValue(input: unknown, key: string | number, depth: number): string | undefined {
  let value = input;
  if (typeof value === "object" && value !== null) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value, String(key));
  }
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (depth >= RECURSION_LIMIT) throw new TooDeepForRecursion();
      if (Array.isArray(value)) {
        let text = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) text += ",";
          text += writeValue(value[i], i, depth + 1) ?? "null";
        }
        return `${text}]`;
      }
      const source = value as Record<string, unknown>;
      const keys = Object.keys(source);
      if (!isSorted(keys)) keys.sort();
      let text = "{";
      for (const name of keys) {
        const member = writeValue(source[name], name, depth + 1);
        if (member === undefined) continue;
        text += text.length > 1 ? `,${quotedKey(name)}:${member}` : `${quotedKey(name)}:${member}`;
      }
      return `${text}}`;
    }
    case "bigint":
      // JSON.stringify refuses BigInt with its own TypeError; keep that behaviour.
      return JSON.stringify(value);
    default:
      return undefined;
  }
}

function canonicalJsonIterative(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const ancestors = new Set<object>();

  const open = (item: unknown): void => {
    if (typeof item !== "object" || item === null) {
      out.push(JSON.stringify(item));
      return;
    }
    if (ancestors.has(item)) throw new TypeError("canonicalJson: cyclic structure");
    ancestors.add(item);
    if (Array.isArray(item)) {
      out.push("[");
      stack.push({ kind: "array", source: item, next: 0 });
    } else {
      out.push("{");
      const source = item as Record<string, unknown>;
      stack.push({ kind: "object", source, keys: Object.keys(source).sort(), next: 0, written: false });
    }
  };

  const root = toJsonValue(value, "");
  if (hasNoJsonForm(root)) throw new TypeError("canonicalJson: value has no JSON representation");
  open(root);

  for (let frame = stack.at(-1); frame !== undefined; frame = stack.at(-1)) {
    let descended = false;
    if (frame.kind === "array") {
      if (frame.next < frame.source.length) {
        const index = frame.next++;
        if (index > 0) out.push(",");
        const item = toJsonValue(frame.source[index], String(index));
        if (hasNoJsonForm(item)) out.push("null");
        else open(item);
        descended = true;
      }
    } else {
      while (frame.next < frame.keys.length && !descended) {
        const key = frame.keys[frame.next++] as string;
        const member = toJsonValue(frame.source[key], key);
        if (hasNoJsonForm(member)) continue;
        if (frame.written) out.push(",");
        frame.written = true;
        out.push(JSON.stringify(key), ":");
        open(member);
        descended = true;
      }
    }
    if (!descended) {
      out.push(frame.kind === "array" ? "]" : "}");
      stack.pop();
      ancestors.delete(frame.source);
    }
  }
  return out.join("");
}

export function dataHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value), "utf8").digest("hex");
}

/**
 * Iterative and bounded by `limit` so that a hostile, deeply nested document is
 * rejected cheaply instead of overflowing the stack; returns `limit + 1` as soon as
 * the limit is exceeded.
 */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 1 }];
  for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
    const { node, depth } = entry;
    if (typeof node !== "object" || node === null) continue;
    if (depth > limit) return limit + 1;
    deepest = Math.max(deepest, depth);
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) pending.push({ node: child, depth: depth + 1 });
    }
  }
  return deepest;
}

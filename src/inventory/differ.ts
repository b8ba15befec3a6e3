import { canonicalJson } from "./canonical.js";

export type ChangeType = "create" | "update" | "delete" | "truncated";

export interface RawChange {
  path: string;
  type: ChangeType;
  previous: unknown;
  current: unknown;
}

/** `path` segments may be `*`, matching exactly one segment. */
export interface ArrayIdentity {
  path: string;
  key: string;
}

export interface DifferOptions {
  maxDepth: number;
  maxPathLength: number;
  maxDiffs: number;
  arrayIdentity: ArrayIdentity[];
}

export const TRUNCATED_PATH = "$truncated";

/** Only reachable when the document root itself is replaced or cut by a limit. */
export const ROOT_PATH = "$";

/**
 * Largest LCS table (2 bytes per cell) built to align positional arrays; beyond it a
 * linear greedy alignment is used. Keeps memory around 8 MB and, because the table is
 * at most this many cells, min(n, m) stays far below the Uint16 ceiling.
 */
const LCS_CELL_LIMIT = 4_000_000;

type Kind = "array" | "object" | "scalar";

interface ChildOp {
  segment: string;
  type: "create" | "update" | "delete";
  previous: unknown;
  current: unknown;
}

function kindOf(value: unknown): Kind {
  if (Array.isArray(value)) return "array";
  return typeof value === "object" && value !== null ? "object" : "scalar";
}

const EQUAL_DEPTH_LIMIT = 512;

function asJsonScalar(value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}

/**
 * Equality of two parsed JSON values, key order ignored: true exactly when their canonical JSON is equal, but
 * without building strings, so unchanged subtrees (most of a document) cost a walk and no allocation.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  try {
    return equalWithin(a, b, 0);
  } catch (err) {
    // Nesting deeper than the call stack is worth trusting: compare the serialisations, which are stack-safe.
    if (err instanceof RangeError) return canonicalJson(a) === canonicalJson(b);
    throw err;
  }
}

function equalWithin(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    // NaN and ±Infinity have no JSON form and serialise as null.
    return asJsonScalar(a) === asJsonScalar(b);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    if (depth > EQUAL_DEPTH_LIMIT) throw new RangeError("nested too deep for a recursive comparison");
    for (let i = 0; i < a.length; i++) if (!equalWithin(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  if (depth > EQUAL_DEPTH_LIMIT) throw new RangeError("nested too deep for a recursive comparison");
  for (const key of keys) {
    if (!Object.hasOwn(right, key) || !equalWithin(left[key], right[key], depth + 1)) return false;
  }
  return true;
}

function childPath(path: string, segment: string): string {
  return path === "" ? segment : `${path}.${segment}`;
}

/** Own members only: inherited names such as `constructor` are not document keys. */
function member(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function objectOps(previous: Record<string, unknown>, current: Record<string, unknown>): ChildOp[] {
  const keys = [...new Set([...Object.keys(previous), ...Object.keys(current)])].sort();
  const ops: ChildOp[] = [];
  for (const key of keys) {
    const before = member(previous, key);
    const after = member(current, key);
    if (before === undefined) {
      if (after !== undefined) ops.push({ segment: key, type: "create", previous: null, current: after });
    } else if (after === undefined) {
      ops.push({ segment: key, type: "delete", previous: before, current: null });
    } else {
      ops.push({ segment: key, type: "update", previous: before, current: after });
    }
  }
  return ops;
}

/** Segment per element, or undefined when the array does not qualify for identity matching. */
function identitySegments(items: readonly unknown[], key: string): Map<string, number> | undefined {
  const segments = new Map<string, number>();
  for (const [index, item] of items.entries()) {
    if (kindOf(item) !== "object") return undefined;
    const id = member(item as Record<string, unknown>, key);
    if (typeof id !== "string" && typeof id !== "number") return undefined;
    const segment = String(id);
    if (segments.has(segment)) return undefined;
    segments.set(segment, index);
  }
  return segments;
}

function identityOps(
  previous: readonly unknown[],
  current: readonly unknown[],
  before: readonly string[],
  after: readonly string[],
  previousIds: Map<string, number>,
  currentIds: Map<string, number>,
): ChildOp[] {
  const ops: ChildOp[] = [];
  for (const segment of [...new Set([...previousIds.keys(), ...currentIds.keys()])].sort()) {
    const i = previousIds.get(segment);
    const j = currentIds.get(segment);
    if (i === undefined) {
      if (j !== undefined) ops.push({ segment, type: "create", previous: null, current: current[j] });
    } else if (j === undefined) {
      ops.push({ segment, type: "delete", previous: previous[i], current: null });
    } else if (before[i] !== after[j]) {
      ops.push({ segment, type: "update", previous: previous[i], current: current[j] });
    }
  }
  return ops;
}

type Pair = [number, number];

function lcsPairs(a: readonly string[], b: readonly string[], start: number, endA: number, endB: number): Pair[] {
  const n = endA - start;
  const m = endB - start;
  const width = m + 1;
  const table = new Uint16Array((n + 1) * width);
  const cell = (i: number, j: number): number => table[i * width + j] ?? 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * width + j] =
        a[start + i] === b[start + j] ? cell(i + 1, j + 1) + 1 : Math.max(cell(i + 1, j), cell(i, j + 1));
    }
  }
  const pairs: Pair[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[start + i] === b[start + j]) {
      pairs.push([start + i, start + j]);
      i++;
      j++;
    } else if (cell(i + 1, j) >= cell(i, j + 1)) {
      i++;
    } else {
      j++;
    }
  }
  return pairs;
}

function greedyPairs(a: readonly string[], b: readonly string[], start: number, endA: number, endB: number): Pair[] {
  const positions = new Map<string, { list: number[]; next: number }>();
  for (let j = start; j < endB; j++) {
    const text = b[j] as string;
    const entry = positions.get(text);
    if (entry) entry.list.push(j);
    else positions.set(text, { list: [j], next: 0 });
  }
  const pairs: Pair[] = [];
  let last = start - 1;
  for (let i = start; i < endA; i++) {
    const entry = positions.get(a[i] as string);
    if (!entry) continue;
    while ((entry.list[entry.next] ?? Number.POSITIVE_INFINITY) <= last) entry.next++;
    const j = entry.list[entry.next];
    if (j === undefined) continue;
    pairs.push([i, j]);
    last = j;
    entry.next++;
  }
  return pairs;
}

/**
 * Aligns equal elements (by canonical JSON) preserving order, so that removing or
 * inserting an element shifts nothing else. Common prefix/suffix are trimmed first,
 * which keeps the usual single edit linear.
 */
function matchEqual(a: readonly string[], b: readonly string[]): Pair[] {
  const pairs: Pair[] = [];
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) {
    pairs.push([start, start]);
    start++;
  }
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const cells = (endA - start + 1) * (endB - start + 1);
  const middle = cells <= LCS_CELL_LIMIT ? lcsPairs(a, b, start, endA, endB) : greedyPairs(a, b, start, endA, endB);
  for (const pair of middle) pairs.push(pair);
  for (let k = 0; endA + k < a.length; k++) pairs.push([endA + k, endB + k]);
  return pairs;
}

/**
 * Unaligned elements between two aligned ones are paired in order as updates (path
 * index from the current array, where the element now lives); the surplus becomes
 * deletes (index in the previous array) or creates (index in the current array).
 * Pairing stays within a gap so an element is never "updated" into one on the other
 * side of an unchanged element.
 */
function positionalOps(
  previous: readonly unknown[],
  current: readonly unknown[],
  before: readonly string[],
  after: readonly string[],
): ChildOp[] {
  const ops: ChildOp[] = [];
  const anchors = matchEqual(before, after);
  anchors.push([previous.length, current.length]);
  let i0 = 0;
  let j0 = 0;
  for (const [i, j] of anchors) {
    const paired = Math.min(i - i0, j - j0);
    for (let k = 0; k < paired; k++) {
      if (before[i0 + k] !== after[j0 + k]) {
        ops.push({ segment: String(j0 + k), type: "update", previous: previous[i0 + k], current: current[j0 + k] });
      }
    }
    for (let k = i0 + paired; k < i; k++) {
      ops.push({ segment: String(k), type: "delete", previous: previous[k], current: null });
    }
    for (let k = j0 + paired; k < j; k++) {
      ops.push({ segment: String(k), type: "create", previous: null, current: current[k] });
    }
    i0 = i + 1;
    j0 = j + 1;
  }
  return ops;
}

class DiffRun {
  private readonly options: DifferOptions;
  private readonly identities: { segments: string[]; key: string }[];
  private readonly kept: RawChange[] = [];
  private omitted = 0;

  constructor(options: DifferOptions) {
    this.options = options;
    this.identities = options.arrayIdentity.map((entry) => ({ segments: entry.path.split("."), key: entry.key }));
  }

  node(segments: string[], path: string, previous: unknown, current: unknown, depth: number): void {
    const kind = kindOf(previous);
    if (kind === "scalar" || kind !== kindOf(current)) {
      if (previous !== current) this.emit(path, "update", previous, current);
      return;
    }
    if (depth >= this.options.maxDepth) {
      if (!jsonEqual(previous, current)) this.emit(path, "update", previous, current);
      return;
    }
    const ops =
      kind === "array"
        ? this.arrayOps(segments, previous as unknown[], current as unknown[])
        : objectOps(previous as Record<string, unknown>, current as Record<string, unknown>);
    const overlong = ops.some(
      (op) =>
        childPath(path, op.segment).length > this.options.maxPathLength &&
        (op.type !== "update" || !jsonEqual(op.previous, op.current)),
    );
    if (overlong) {
      this.emit(path, "update", previous, current);
      return;
    }
    for (const op of ops) {
      const child = childPath(path, op.segment);
      if (op.type === "update") {
        segments.push(op.segment);
        this.node(segments, child, op.previous, op.current, depth + 1);
        segments.pop();
      } else {
        this.emit(child, op.type, op.previous, op.current);
      }
    }
  }

  finish(): RawChange[] {
    if (this.omitted === 0) return this.kept;
    return [
      ...this.kept,
      {
        path: TRUNCATED_PATH,
        type: "truncated",
        previous: null,
        current: { omitted: this.omitted, limit: this.options.maxDiffs },
      },
    ];
  }

  private arrayOps(segments: readonly string[], previous: unknown[], current: unknown[]): ChildOp[] {
    // Most arrays of a re-sent document are unchanged; proving that is far cheaper than serialising every item.
    if (jsonEqual(previous, current)) return [];
    const before = previous.map((item) => canonicalJson(item));
    const after = current.map((item) => canonicalJson(item));
    const identity = this.identities.find(
      (entry) =>
        entry.segments.length === segments.length &&
        entry.segments.every((segment, index) => segment === "*" || segment === segments[index]),
    );
    if (identity) {
      const previousIds = identitySegments(previous, identity.key);
      const currentIds = identitySegments(current, identity.key);
      if (previousIds && currentIds) return identityOps(previous, current, before, after, previousIds, currentIds);
    }
    return positionalOps(previous, current, before, after);
  }

  private emit(path: string, type: ChangeType, previous: unknown, current: unknown): void {
    if (this.kept.length < this.options.maxDiffs) {
      this.kept.push({ path: path === "" ? ROOT_PATH : path, type, previous, current });
    } else {
      this.omitted++;
    }
  }
}

/**
 * Changes from `previous` to `current` in a deterministic order (object keys and
 * array identities sorted, positional arrays by position). `previous === undefined`
 * is the first document of a system: a baseline without changes.
 */
export function diffDocuments(previous: unknown, current: unknown, options: DifferOptions): RawChange[] {
  if (previous === undefined) return [];
  const run = new DiffRun(options);
  run.node([], "", previous, current, 0);
  return run.finish();
}

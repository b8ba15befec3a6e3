import { describe, expect, it } from "vitest";
import { DEFAULT_DIFFER_OPTIONS } from "../../src/inventory/default-rules.js";
import { canonicalJson } from "../../src/inventory/canonical.js";
import { type DifferOptions, diffDocuments, jsonEqual } from "../../src/inventory/differ.js";

const options: DifferOptions = {
  maxDepth: 10,
  maxPathLength: 500,
  maxDiffs: 1000,
  arrayIdentity: [
    { path: "facts.modules", key: "id" },
    { path: "facts.nodes.*.services", key: "name" },
  ],
};

const diff = (previous: unknown, current: unknown, overrides: Partial<DifferOptions> = {}) =>
  diffDocuments(previous, current, { ...options, ...overrides });

describe("diffDocuments basics", () => {
  it("treats the first document as a baseline", () => {
    expect(diff(undefined, { facts: { a: 1 } })).toEqual([]);
  });

  it("produces nothing for equal documents, whatever the key order", () => {
    expect(diff({ a: { x: 1, y: [1, 2] }, b: null }, { b: null, a: { y: [1, 2], x: 1 } })).toEqual([]);
  });

  it("reports scalar updates by dot path", () => {
    expect(
      diff(
        { facts: { distro: { name: "rocky", version: "9.4" } } },
        { facts: { distro: { name: "rocky", version: "9.5" } } },
      ),
    ).toEqual([{ path: "facts.distro.version", type: "update", previous: "9.4", current: "9.5" }]);
  });

  it("reports added and removed keys once, with the full value, in key order", () => {
    expect(
      diff(
        { facts: { z: 1, gone: { deep: { x: 1 } }, keep: true } },
        { facts: { z: 1, keep: true, added: { nested: [1, 2] } } },
      ),
    ).toEqual([
      { path: "facts.added", type: "create", previous: null, current: { nested: [1, 2] } },
      { path: "facts.gone", type: "delete", previous: { deep: { x: 1 } }, current: null },
    ]);
  });

  it("records type changes as updates with both full values", () => {
    expect(
      diff(
        { a: "1", b: 1, c: [1], d: null, e: { x: 1 }, f: true },
        { a: 1, b: { v: 1 }, c: { 0: 1 }, d: [], e: "x", f: null },
      ),
    ).toEqual([
      { path: "a", type: "update", previous: "1", current: 1 },
      { path: "b", type: "update", previous: 1, current: { v: 1 } },
      { path: "c", type: "update", previous: [1], current: { 0: 1 } },
      { path: "d", type: "update", previous: null, current: [] },
      { path: "e", type: "update", previous: { x: 1 }, current: "x" },
      { path: "f", type: "update", previous: true, current: null },
    ]);
  });

  it("reports a replaced root as an update at $", () => {
    expect(diff({ a: 1 }, [1])).toEqual([{ path: "$", type: "update", previous: { a: 1 }, current: [1] }]);
  });

  it("diffs a revert A→B→A in both directions", () => {
    const a = { facts: { kernel: "6.1", pkgs: ["x", "y"] } };
    const b = { facts: { kernel: "6.2", pkgs: ["x"] } };
    expect(diff(a, b)).toEqual([
      { path: "facts.kernel", type: "update", previous: "6.1", current: "6.2" },
      { path: "facts.pkgs.1", type: "delete", previous: "y", current: null },
    ]);
    expect(diff(b, a)).toEqual([
      { path: "facts.kernel", type: "update", previous: "6.2", current: "6.1" },
      { path: "facts.pkgs.1", type: "create", previous: null, current: "y" },
    ]);
  });

  it("does not mistake inherited names for keys", () => {
    expect(diff({ constructor: 1 }, {})).toEqual([{ path: "constructor", type: "delete", previous: 1, current: null }]);
    expect(diff({}, JSON.parse('{"__proto__":{"x":1}}'))).toEqual([
      { path: "__proto__", type: "create", previous: null, current: { x: 1 } },
    ]);
  });

  it("is deterministic", () => {
    const previous = { facts: { b: [3, 2, 1], a: { y: 1, x: 2 }, modules: [{ id: "m2" }, { id: "m1", v: 1 }] } };
    const current = { facts: { a: { x: 3, z: 0 }, b: [1, 2], modules: [{ id: "m1", v: 2 }, { id: "m3" }] } };
    const first = diff(previous, current);
    expect(diff(structuredClone(previous), structuredClone(current))).toEqual(first);
    expect(first).toEqual([
      { path: "facts.a.x", type: "update", previous: 2, current: 3 },
      { path: "facts.a.y", type: "delete", previous: 1, current: null },
      { path: "facts.a.z", type: "create", previous: null, current: 0 },
      { path: "facts.b.0", type: "delete", previous: 3, current: null },
      { path: "facts.b.1", type: "delete", previous: 2, current: null },
      { path: "facts.b.1", type: "create", previous: null, current: 2 },
      { path: "facts.modules.m1.v", type: "update", previous: 1, current: 2 },
      { path: "facts.modules.m2", type: "delete", previous: { id: "m2" }, current: null },
      { path: "facts.modules.m3", type: "create", previous: null, current: { id: "m3" } },
    ]);
  });
});

describe("identity-matched arrays", () => {
  const modules = (...items: unknown[]) => ({ facts: { modules: items } });

  it("names a module by id when its version changes", () => {
    expect(
      diff(
        modules({ id: "traefik1", version: "2.0" }, { id: "nextcloud1", version: "1.0" }),
        modules({ id: "nextcloud1", version: "1.1" }, { id: "traefik1", version: "2.0" }),
      ),
    ).toEqual([{ path: "facts.modules.nextcloud1.version", type: "update", previous: "1.0", current: "1.1" }]);
  });

  it("names the module removed from the middle", () => {
    expect(
      diff(
        modules({ id: "a1", v: 1 }, { id: "b1", v: 1 }, { id: "c1", v: 1 }),
        modules({ id: "a1", v: 1 }, { id: "c1", v: 1 }),
      ),
    ).toEqual([{ path: "facts.modules.b1", type: "delete", previous: { id: "b1", v: 1 }, current: null }]);
  });

  it("creates modules under their id, numeric ids included", () => {
    expect(diff(modules(), modules({ id: 7, name: "x" }))).toEqual([
      { path: "facts.modules.7", type: "create", previous: null, current: { id: 7, name: "x" } },
    ]);
  });

  it("matches wildcard identity paths", () => {
    const node = (...services: unknown[]) => ({ facts: { nodes: { n1: { services } } } });
    expect(
      diff(
        node({ name: "sshd", on: true }, { name: "cron", on: true }),
        node({ name: "cron", on: false }, { name: "sshd", on: true }),
      ),
    ).toEqual([{ path: "facts.nodes.n1.services.cron.on", type: "update", previous: true, current: false }]);
  });

  it("falls back to positions when ids are missing or duplicated", () => {
    expect(diff(modules({ id: "a" }, { id: "a", v: 1 }), modules({ id: "a" }, { id: "a", v: 2 }))).toEqual([
      { path: "facts.modules.1.v", type: "update", previous: 1, current: 2 },
    ]);
    expect(diff(modules({ id: "a" }, { v: 1 }), modules({ id: "a" }, { v: 2 }))).toEqual([
      { path: "facts.modules.1.v", type: "update", previous: 1, current: 2 },
    ]);
  });

  it("uses the identity table shipped in the defaults", () => {
    expect(
      diffDocuments(
        { facts: { cluster: { user_domains: [{ name: "ad.example", users: 3 }] } } },
        { facts: { cluster: { user_domains: [{ name: "ad.example", users: 4 }] } } },
        DEFAULT_DIFFER_OPTIONS,
      ),
    ).toEqual([{ path: "facts.cluster.user_domains.ad.example.users", type: "update", previous: 3, current: 4 }]);
  });
});

describe("positional arrays", () => {
  it("names the removed middle element by its previous index", () => {
    expect(diff({ arr: ["a", "b", "c"] }, { arr: ["a", "c"] })).toEqual([
      { path: "arr.1", type: "delete", previous: "b", current: null },
    ]);
  });

  it("names an inserted element by its current index", () => {
    expect(diff({ arr: [{ n: 1 }, { n: 3 }] }, { arr: [{ n: 1 }, { n: 2 }, { n: 3 }] })).toEqual([
      { path: "arr.1", type: "create", previous: null, current: { n: 2 } },
    ]);
  });

  it("pairs unmatched elements within a gap as updates and recurses into containers", () => {
    expect(
      diff(
        { arr: [{ n: 1 }, { n: 2, tag: "x" }, "k", "gone"] },
        { arr: [{ n: 1 }, { n: 2, tag: "y" }, "k", "new", "more"] },
      ),
    ).toEqual([
      { path: "arr.1.tag", type: "update", previous: "x", current: "y" },
      { path: "arr.3", type: "update", previous: "gone", current: "new" },
      { path: "arr.4", type: "create", previous: null, current: "more" },
    ]);
  });

  it("does not pair elements across an unchanged one", () => {
    expect(diff({ arr: ["a", "b", "c"] }, { arr: ["a", "c", "x"] })).toEqual([
      { path: "arr.1", type: "delete", previous: "b", current: null },
      { path: "arr.2", type: "create", previous: null, current: "x" },
    ]);
  });

  it("reports a rotation as one delete and one create", () => {
    expect(diff({ arr: ["a", "b", "c"] }, { arr: ["b", "c", "a"] })).toEqual([
      { path: "arr.0", type: "delete", previous: "a", current: null },
      { path: "arr.2", type: "create", previous: null, current: "a" },
    ]);
  });

  it("keeps aligning large arrays whose edits are far apart", () => {
    const before = Array.from({ length: 2500 }, (_, i) => `p${i}`);
    const after = [...before.slice(0, 3), ...before.slice(4, 2497), "changed", ...before.slice(2498)];
    expect(diff({ arr: before }, { arr: after })).toEqual([
      { path: "arr.3", type: "delete", previous: "p3", current: null },
      { path: "arr.2496", type: "update", previous: "p2497", current: "changed" },
    ]);
  });
});

describe("limits", () => {
  it("compares subtrees past maxDepth as a whole", () => {
    const previous = { a: { b: { c: { d: 1, e: 1 } } } };
    const current = { a: { b: { c: { d: 2, e: 2 } } } };
    expect(diff(previous, current, { maxDepth: 2 })).toEqual([
      { path: "a.b", type: "update", previous: { c: { d: 1, e: 1 } }, current: { c: { d: 2, e: 2 } } },
    ]);
    expect(diff(previous, current, { maxDepth: 4 })).toEqual([
      { path: "a.b.c.d", type: "update", previous: 1, current: 2 },
      { path: "a.b.c.e", type: "update", previous: 1, current: 2 },
    ]);
    expect(diff({ a: { b: [1, 2] } }, { a: { b: [2, 1] } }, { maxDepth: 1 })).toEqual([
      { path: "a", type: "update", previous: { b: [1, 2] }, current: { b: [2, 1] } },
    ]);
  });

  it("treats a node as a leaf when a changed child path would be too long", () => {
    const long = "k".repeat(20);
    expect(diff({ box: { [long]: 1, s: 1 } }, { box: { [long]: 2, s: 2 } }, { maxPathLength: 20 })).toEqual([
      { path: "box", type: "update", previous: { [long]: 1, s: 1 }, current: { [long]: 2, s: 2 } },
    ]);
    expect(diff({ box: { [long]: 1, s: 1 } }, { box: { [long]: 1, s: 2 } }, { maxPathLength: 20 })).toEqual([
      { path: "box.s", type: "update", previous: 1, current: 2 },
    ]);
  });

  it("keeps the first maxDiffs changes and appends a truncation marker", () => {
    const previous = { a: 1, b: 1, c: 1, d: 1, e: 1 };
    const current = { a: 2, b: 2, c: 2, d: 2, e: 2 };
    expect(diff(previous, current, { maxDiffs: 2 })).toEqual([
      { path: "a", type: "update", previous: 1, current: 2 },
      { path: "b", type: "update", previous: 1, current: 2 },
      { path: "$truncated", type: "truncated", previous: null, current: { omitted: 3, limit: 2 } },
    ]);
    expect(diff(previous, current, { maxDiffs: 5 })).toHaveLength(5);
  });

  it("cuts a deeply nested hostile document at maxDepth without overflowing the stack", () => {
    const nest = (leaf: string): unknown => {
      let value: unknown = leaf;
      for (let i = 0; i < 50_000; i++) value = { n: value };
      return value;
    };
    const previous = nest("x");
    const current = nest("y");
    let previousCut: unknown = previous;
    let currentCut: unknown = current;
    for (let i = 0; i < 9; i++) {
      previousCut = (previousCut as { n: unknown }).n;
      currentCut = (currentCut as { n: unknown }).n;
    }
    expect(diff({ doc: previous }, { doc: current }, { maxDepth: 10 })).toEqual([
      { path: `doc${".n".repeat(9)}`, type: "update", previous: previousCut, current: currentCut },
    ]);
  });
});

describe("jsonEqual", () => {
  it("agrees with comparing canonical JSON", () => {
    const cases: [unknown, unknown][] = [
      [
        { a: 1, b: [1, { c: 2 }] },
        { b: [1, { c: 2 }], a: 1 },
      ],
      [{ a: 1 }, { a: 1, b: 2 }],
      [
        { a: 1, b: 2 },
        { a: 1, c: 2 },
      ],
      [
        [1, 2],
        [2, 1],
      ],
      [[], {}],
      [{}, []],
      [null, {}],
      ["1", 1],
      [Number.NaN, null],
      [Number.NaN, Number.POSITIVE_INFINITY],
      [{ a: [[[]]] }, { a: [[[]]] }],
      [{ a: [[[1]]] }, { a: [[[2]]] }],
    ];
    for (const [a, b] of cases) {
      expect(jsonEqual(a, b), JSON.stringify([a, b])).toBe(canonicalJson(a) === canonicalJson(b));
    }
  });

  it("compares documents nested deeper than the call stack", () => {
    const nest = (depth: number, leaf: unknown) => {
      let value: unknown = leaf;
      for (let i = 0; i < depth; i++) value = { x: value };
      return value;
    };
    expect(jsonEqual(nest(50_000, 1), nest(50_000, 1))).toBe(true);
    expect(jsonEqual(nest(50_000, 1), nest(50_000, 2))).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { canonicalJson, dataHash, jsonDepth } from "../../src/inventory/canonical.js";

function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

describe("canonicalJson", () => {
  it("sorts keys at every level and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }], "": null })).toBe('{"":null,"a":[1,{"c":3,"d":2}],"b":1}');
  });

  it("sorts keys by UTF-16 code units", () => {
    expect(canonicalJson({ b: 0, B: 0, é: 0, a: 0, "😀": 0, "\uffff": 0 })).toBe(
      '{"B":0,"a":0,"b":0,"é":0,"😀":0,"\uffff":0}',
    );
  });

  it("encodes scalars exactly like JSON.stringify", () => {
    const scalars = [0, -0, 1e21, 1.5e-7, 0.1 + 0.2, 'line\nbreak "q" \u2028 \ud800', true, null];
    for (const scalar of scalars) expect(canonicalJson(scalar)).toBe(JSON.stringify(scalar));
    expect(canonicalJson([Number.NaN, Number.POSITIVE_INFINITY])).toBe("[null,null]");
  });

  it("skips undefined members and writes undefined array items as null, like JSON.stringify", () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1], c: () => 1 })).toBe('{"b":[null,1]}');
    expect(canonicalJson({ z: 1, a: undefined })).toBe('{"z":1}');
    expect(canonicalJson([])).toBe("[]");
    expect(canonicalJson({})).toBe("{}");
  });

  it("honours toJSON like JSON.stringify", () => {
    expect(canonicalJson({ at: new Date("2025-01-02T03:04:05.000Z") })).toBe('{"at":"2025-01-02T03:04:05.000Z"}');
  });

  it("rejects values without a JSON form and cycles", () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    const cyclic: { self?: unknown } = {};
    cyclic.self = { back: cyclic };
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
  });

  it("allows the same object twice when it is not its own ancestor", () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });

  it("handles nesting far deeper than the call stack", () => {
    const depth = 100_000;
    expect(canonicalJson(nestedArrays(depth))).toBe("[".repeat(depth) + "]".repeat(depth));
  });
});

describe("dataHash", () => {
  it("is the lowercase SHA-256 of the canonical UTF-8 JSON", () => {
    expect(dataHash({ b: "é", a: [1, { d: 2, c: 3 }] })).toBe(
      "5244e72b64d422829d04929ae010133c05bb4bcaa1f4436b5a80475000afc120",
    );
    expect(dataHash({})).toBe("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  });

  it("ignores key order and formatting", () => {
    const compact = JSON.parse('{"os":{"name":"x","version":"1"},"list":[1,2]}');
    const spaced = JSON.parse('{\n  "list" : [ 1, 2 ],\n  "os" : { "version" : "1", "name" : "x" }\n}');
    expect(dataHash(spaced)).toBe(dataHash(compact));
  });

  it("distinguishes array order and value changes", () => {
    expect(dataHash({ list: [1, 2] })).not.toBe(dataHash({ list: [2, 1] }));
    expect(dataHash({ v: "1" })).not.toBe(dataHash({ v: 1 }));
  });
});

describe("jsonDepth", () => {
  it("counts container nesting", () => {
    expect(jsonDepth("x", 10)).toBe(0);
    expect(jsonDepth(null, 10)).toBe(0);
    expect(jsonDepth({}, 10)).toBe(1);
    expect(jsonDepth([], 10)).toBe(1);
    expect(jsonDepth({ a: {} }, 10)).toBe(2);
    expect(jsonDepth({ a: [1, { b: [] }], c: {} }, 10)).toBe(4);
  });

  it("stops at limit + 1", () => {
    expect(jsonDepth({ a: { b: { c: {} } } }, 2)).toBe(3);
    expect(jsonDepth({ a: { b: {} } }, 3)).toBe(3);
  });

  it("rejects a 100000-deep array without overflowing the stack", () => {
    const deep = nestedArrays(100_000);
    expect(jsonDepth(deep, 64)).toBe(65);
    expect(jsonDepth(deep, 1_000_000)).toBe(100_000);
  });
});

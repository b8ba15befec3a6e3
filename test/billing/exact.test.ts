import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileFormula } from "../../src/billing/compiled-formula.js";
import { Money, roundMinor } from "../../src/billing/decimal.js";
import {
  ceil,
  dividedBy,
  type Exact,
  exactOf,
  minus,
  negated,
  parseExact,
  plus,
  times,
  toFixed,
  toMinor,
  toMoney,
} from "../../src/billing/exact.js";
import { FormulaError, parseFormula } from "../../src/billing/formula.js";

const x = (text: string) => parseExact(text);
const fixed = (value: Exact) => toFixed(value);

describe("Exact arithmetic", () => {
  it("adds, subtracts and multiplies exactly below 40 digits", () => {
    expect(fixed(plus(x("0.1"), x("0.2")))).toBe("0.3");
    expect(fixed(plus(x("1e3"), x("0.001")))).toBe("1000.001");
    expect(fixed(minus(x("1"), x("1.000")))).toBe("0");
    expect(fixed(minus(x("0.5"), x("2")))).toBe("-1.5");
    expect(fixed(times(x("0.125"), x("3600")))).toBe("450");
    expect(fixed(times(x("-2.5"), x("0.4")))).toBe("-1");
  });

  it("rounds every result to 40 significant digits, half to even", () => {
    // 41 digits ending in 5 after the 40th: a tie, kept even.
    expect(fixed(plus(x("1234567890123456789012345678901234567890"), x("0.5")))).toBe(
      "1234567890123456789012345678901234567890",
    );
    expect(fixed(plus(x("1234567890123456789012345678901234567891"), x("0.5")))).toBe(
      "1234567890123456789012345678901234567892",
    );
    expect(fixed(plus(x("1234567890123456789012345678901234567890"), x("0.51")))).toBe(
      "1234567890123456789012345678901234567891",
    );
    // A carry out of the 40th digit.
    expect(fixed(plus(x("9999999999999999999999999999999999999999"), x("0.5")))).toBe(
      "10000000000000000000000000000000000000000",
    );
    expect(fixed(times(x("-0.3333333333333333333333333333333333333333"), x("3")))).toBe(
      "-0.9999999999999999999999999999999999999999",
    );
  });

  it("divides to 40 significant digits, a remainder beyond them breaking a tie upwards", () => {
    expect(fixed(dividedBy(x("1"), x("3")))).toBe("0.3333333333333333333333333333333333333333");
    expect(fixed(dividedBy(x("2"), x("3")))).toBe("0.6666666666666666666666666666666666666667");
    expect(fixed(dividedBy(x("-2"), x("3")))).toBe("-0.6666666666666666666666666666666666666667");
    expect(fixed(dividedBy(x("128"), x("1024")))).toBe("0.125");
    expect(fixed(dividedBy(x("36.5"), x("3600")))).toBe("0.01013888888888888888888888888888888888889");
    expect(fixed(dividedBy(x("0"), x("7")))).toBe("0");
    // Halves that tie at the 41st digit: even, unless a remainder lies beyond the computed digits.
    expect(fixed(dividedBy(x("2000000000000000000000000000000000000001"), x("2")))).toBe(
      "1000000000000000000000000000000000000000",
    );
    expect(fixed(dividedBy(x("2000000000000000000000000000000000000001.0000000001"), x("2")))).toBe(
      "1000000000000000000000000000000000000001",
    );
  });

  it("takes the ceiling of either sign", () => {
    expect(fixed(ceil(x("0.0001")))).toBe("1");
    expect(fixed(ceil(x("3600e-3")))).toBe("4");
    expect(fixed(ceil(x("3.000")))).toBe("3");
    expect(fixed(ceil(x("-1.5")))).toBe("-1");
    expect(fixed(ceil(x("-0.5")))).toBe("0");
    expect(fixed(ceil(x("12e2")))).toBe("1200");
    expect(fixed(negated(x("1.5")))).toBe("-1.5");
  });

  it("reads and prints what Money reads and prints", () => {
    for (const text of ["0", "-0.5", "1.50", "1e+21", "1.5e-3", ".25", "120", "-0.000001"]) {
      expect(fixed(x(text))).toBe(new Money(text).toFixed());
    }
    expect(fixed(exactOf(0.1))).toBe("0.1");
    expect(fixed(exactOf(2048))).toBe("2048");
    expect(() => x("1,5")).toThrow(RangeError);
    expect(toMoney(x("-12.5e-1")).toFixed()).toBe("-1.25");
  });

  it("rounds to the minor unit half to even, as roundMinor", () => {
    expect(toMinor(x("0.125"))).toBe("0.12");
    expect(toMinor(x("0.135"))).toBe("0.14");
    expect(toMinor(x("0.1250000001"))).toBe("0.13");
    expect(toMinor(x("-0.125"))).toBe("-0.12");
    expect(toMinor(x("-0.001"))).toBe("0.00");
    expect(toMinor(x("7"))).toBe("7.00");
    expect(toMinor(x("12e3"))).toBe("12000.00");
  });

  it("agrees with Money on every operation, digit for digit", () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: -(10n ** 45n), max: 10n ** 45n }), fc.integer({ min: -50, max: 10 }))
      .map(([c, e]) => `${c}e${e}`);
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const [ma, mb] = [new Money(a), new Money(b)];
        const [ea, eb] = [x(a), x(b)];
        expect(fixed(plus(ea, eb))).toBe(ma.plus(mb).toFixed());
        expect(fixed(minus(ea, eb))).toBe(ma.minus(mb).toFixed());
        expect(fixed(times(ea, eb))).toBe(ma.times(mb).toFixed());
        if (!mb.isZero()) expect(fixed(dividedBy(ea, eb))).toBe(ma.dividedBy(mb).toFixed());
        expect(fixed(ceil(ea))).toBe(ma.ceil().toFixed());
        expect(toMinor(ea)).toBe(roundMinor(ma));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("compileFormula", () => {
  const vars = (memory: number, storage: number, nodes: number, ms: number) => ({
    memory_in_mb: exactOf(memory),
    storage_in_mb: exactOf(storage),
    number_of_nodes: exactOf(nodes),
    time_in_seconds: { coefficient: BigInt(ms), exponent: -3 },
  });
  const evaluate = (text: string, memory: number, storage: number, nodes: number, ms: number) =>
    fixed(compileFormula(parseFormula(text).ast)(vars(memory, storage, nodes, ms)));

  it("gives the public cases' numbers", () => {
    expect(evaluate("$time_in_seconds / 3600 * 2", 64, 128, 2, 60_000)).toBe(
      "0.03333333333333333333333333333333333333334",
    );
    expect(evaluate("ceil($time_in_seconds / 3600) * 10", 64, 128, 2, 60_000)).toBe("10");
    expect(evaluate("2^2", 64, 128, 2, 60_000)).toBe("4");
    expect(evaluate("$memory_in_mb * $storage_in_mb - -$number_of_nodes", 64, 128, 2, 60_000)).toBe("8194");
  });

  it("falls back to Money for powers, fractional exponents included", () => {
    expect(evaluate("$number_of_nodes ^ 0.5", 0, 0, 2, 0)).toBe(new Money(2).pow(0.5).toFixed());
    expect(evaluate("2 ^ -1 * $time_in_seconds", 0, 0, 1, 1500)).toBe("0.75");
  });

  it("names the position of a division by zero", () => {
    const formula = compileFormula(parseFormula("1 + $memory_in_mb / $storage_in_mb").ast);
    expect(() => formula(vars(1, 0, 1, 0))).toThrow(new FormulaError("division by zero at position 19"));
  });

  it("agrees with Formula.evaluate on the bench's formulas and random sizes", () => {
    const formulas = [
      "$number_of_nodes * $time_in_seconds * ($memory_in_mb / 1024) * 0.01 / 3600",
      "$number_of_nodes * ceil($time_in_seconds / 3600) * ($memory_in_mb / 1024) * 0.004",
      "ceil($time_in_seconds / 3600) * 0.025 * $number_of_nodes - 1 / 3 + $storage_in_mb / 7",
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...formulas),
        fc.integer({ min: 0, max: 65_536 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: 40 * 86_400_000 }),
        (text, memory, storage, nodes, ms) => {
          const expected = parseFormula(text).evaluate({
            memory_in_mb: memory,
            storage_in_mb: storage,
            number_of_nodes: nodes,
            time_in_seconds: new Money(`${ms}e-3`),
          });
          expect(evaluate(text, memory, storage, nodes, ms)).toBe(expected.toFixed());
        },
      ),
      { numRuns: 2000 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { Money } from "../../src/billing/decimal.js";
import { evaluateFormula, FormulaError, type FormulaVariables, parseFormula } from "../../src/billing/formula.js";

// The variables of public case 5.
const vars: FormulaVariables = { memory_in_mb: 64, storage_in_mb: 128, number_of_nodes: 2, time_in_seconds: 60 };
const value = (text: string, variables: FormulaVariables = vars) => parseFormula(text).evaluate(variables).toFixed();
const failure = (action: () => unknown) => {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(FormulaError);
    return (error as Error).message;
  }
  throw new Error("expected a FormulaError");
};

describe("formula language: public case 5", () => {
  it("divides exactly to Money precision", () => {
    const result = parseFormula("$time_in_seconds / 3600 * 2").evaluate(vars);
    expect(result.toDecimalPlaces(20).toFixed()).toBe("0.03333333333333333333");
    // 60/3600 rounds its 40th significant digit up (…67); doubling carries that into the last digit.
    expect(result.toFixed()).toBe(`0.0${"3".repeat(39)}4`);
  });

  it("rounds up with ceil", () => {
    expect(value("ceil($time_in_seconds / 3600) * 10")).toBe("10");
  });

  it("raises to a power", () => {
    expect(value("2^2")).toBe("4");
  });

  it("rejects trailing text, naming the token and its position", () => {
    expect(failure(() => parseFormula("1+1;"))).toBe('unexpected ";" at position 4');
  });
});

describe("formula language: grammar", () => {
  it.each([
    ["1 + 2 * 3", "7"],
    ["(1 + 2) * 3", "9"],
    ["10 - 4 - 3", "3"],
    ["8 / 4 / 2", "1"],
    ["2 * 3 ^ 2", "18"],
    ["2 ^ 3 ^ 2", "512"],
    ["(2 ^ 3) ^ 2", "64"],
    ["-2 ^ 2", "-4"],
    ["(-2) ^ 2", "4"],
    ["2 ^ -1", "0.5"],
    ["--3", "3"],
    ["-$number_of_nodes * 2", "-4"],
    ["3 - -1", "4"],
    ["0.1 + 0.2", "0.3"],
    [".5 * 4", "2"],
    ["ceil(ceil(0.5) / 3)", "1"],
    ["ceil(-1.5)", "-1"],
    ["CEIL(0.2)", "1"],
    ["$memory_in_mb * $storage_in_mb / 1024 * $number_of_nodes", "16"],
  ])("%s = %s", (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it("ignores whitespace of any kind", () => {
    expect(value("  ceil (\t$time_in_seconds\n/ 3600 )  *10 ")).toBe("10");
  });

  it("evaluates powers with integer exponents exactly and others approximately", () => {
    expect(value("1.1 ^ 10")).toBe("2.5937424601");
    expect(value("10 ^ -3")).toBe("0.001");
    expect(parseFormula("2 ^ 0.5").evaluate(vars).toDecimalPlaces(10).toFixed()).toBe("1.4142135624");
  });

  it("parses once and evaluates many times", () => {
    const formula = parseFormula("$time_in_seconds * $number_of_nodes");
    expect(formula.text).toBe("$time_in_seconds * $number_of_nodes");
    expect(formula.ast.kind).toBe("binary");
    expect(formula.evaluate({ ...vars, time_in_seconds: "1.5" }).toFixed()).toBe("3");
    expect(evaluateFormula(formula.ast, { ...vars, number_of_nodes: new Money(3) }).toFixed()).toBe("180");
  });
});

describe("formula language: errors", () => {
  it.each([
    ["$cpu * 2", 'unknown variable "$cpu" at position 1'],
    ["floor(1)", 'unknown function "floor" at position 1'],
    ["1 +", "unexpected end of formula at position 4"],
    ["", "unexpected end of formula at position 1"],
    ["(1 + 2", 'unexpected end of formula at position 7, expected ")"'],
    ["ceil 1", 'unexpected "1" at position 6, expected "("'],
    ["1 2", 'unexpected "2" at position 3'],
    ["2 * * 3", 'unexpected "*" at position 5'],
    ["+1", 'unexpected "+" at position 1'],
    ["1e3", 'unexpected "e3" at position 2'],
    ["$ time_in_seconds", 'unexpected "$" at position 1'],
    ["1 % 2", 'unexpected "%" at position 3'],
    ["1; DROP TABLE events", 'unexpected ";" at position 2'],
    ["'1' || pg_sleep(10)", `unexpected "'" at position 1`],
  ])("%j → %s", (text, message) => {
    expect(failure(() => parseFormula(text))).toBe(message);
  });

  it("reports division by zero when evaluating, at the operator", () => {
    const formula = parseFormula("1 / ($number_of_nodes - 2)");
    expect(failure(() => formula.evaluate(vars))).toBe("division by zero at position 3");
    expect(failure(() => value("0 ^ -1"))).toBe("division by zero at position 3");
  });

  it("reports powers without a real result", () => {
    expect(failure(() => value("(-8) ^ 0.5"))).toBe('"^" at position 6 has no finite real result');
  });

  it("rejects variable values that are not numbers", () => {
    expect(failure(() => value("$memory_in_mb", { ...vars, memory_in_mb: "lots" }))).toBe(
      '$memory_in_mb is not a finite number (got "lots")',
    );
    expect(failure(() => value("1", { ...vars, storage_in_mb: Number.NaN }))).toMatch(/\$storage_in_mb/);
  });
});

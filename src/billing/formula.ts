import { Money } from "./decimal.js";

/**
 * The pricing formula language of paas-billing plans: decimal numbers, `+ - * / ^ ( )`, unary minus, `ceil(…)` and
 * four variables. paas-billing pastes the formula into SQL; here it is parsed once into a tree and evaluated in
 * exact decimals, so nothing outside the language can ever run and no float or integer-division rounding creeps in.
 *
 * Precedence, loosest first: `+ -` (left-associative), `* /` (left-associative), unary minus, `^`
 * (right-associative). So `-2^2` is -4, `2^3^2` is 512, and `2^-1` is 0.5. Positions in messages count characters
 * from 1.
 */

export const FORMULA_VARIABLES = ["memory_in_mb", "storage_in_mb", "number_of_nodes", "time_in_seconds"] as const;
export type FormulaVariable = (typeof FORMULA_VARIABLES)[number];
export type FormulaVariables = Record<FormulaVariable, Money | number | string>;

type BinaryOperator = "+" | "-" | "*" | "/" | "^";

export type FormulaNode =
  | { kind: "number"; value: Money }
  | { kind: "variable"; name: FormulaVariable }
  | { kind: "negate"; operand: FormulaNode }
  | { kind: "ceil"; operand: FormulaNode }
  /** `position` is the operator's, for errors only evaluation can find (division by zero). */
  | { kind: "binary"; operator: BinaryOperator; left: FormulaNode; right: FormulaNode; position: number };

export class FormulaError extends Error {
  override name = "FormulaError";
}

export interface Formula {
  readonly text: string;
  readonly ast: FormulaNode;
  evaluate(variables: FormulaVariables): Money;
}

type Token =
  | { type: "number"; text: string; position: number }
  | { type: "variable"; text: string; name: FormulaVariable; position: number }
  | { type: "identifier"; text: string; position: number }
  | { type: "symbol"; text: BinaryOperator | "(" | ")"; position: number }
  | { type: "end"; text: ""; position: number };

const NUMBER = /\d+(?:\.\d+)?|\.\d+/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const SYMBOLS = new Set(["+", "-", "*", "/", "^", "(", ")"]);
const WHITESPACE = /\s/;

const isVariable = (name: string): name is FormulaVariable => (FORMULA_VARIABLES as readonly string[]).includes(name);

function matchAt(pattern: RegExp, text: string, index: number): string | undefined {
  pattern.lastIndex = index;
  return pattern.exec(text)?.[0];
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    const position = i + 1;
    if (WHITESPACE.test(char)) {
      i++;
      continue;
    }
    const number = matchAt(NUMBER, text, i);
    if (number) {
      tokens.push({ type: "number", text: number, position });
      i += number.length;
      continue;
    }
    if (char === "$") {
      const name = matchAt(WORD, text, i + 1);
      if (!name) throw new FormulaError(`unexpected "$" at position ${position}`);
      if (!isVariable(name)) throw new FormulaError(`unknown variable "$${name}" at position ${position}`);
      tokens.push({ type: "variable", text: `$${name}`, name, position });
      i += 1 + name.length;
      continue;
    }
    const word = matchAt(WORD, text, i);
    if (word) {
      tokens.push({ type: "identifier", text: word, position });
      i += word.length;
      continue;
    }
    if (SYMBOLS.has(char)) {
      tokens.push({ type: "symbol", text: char as BinaryOperator | "(" | ")", position });
      i++;
      continue;
    }
    throw new FormulaError(`unexpected "${char}" at position ${position}`);
  }
  tokens.push({ type: "end", text: "", position: text.length + 1 });
  return tokens;
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): FormulaNode {
    const node = this.expression();
    this.expectEnd();
    return node;
  }

  private peek(): Token {
    // tokenize() always ends the list with an "end" token, and nothing reads past it.
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    this.index++;
    return token;
  }

  private isSymbol(...symbols: string[]): boolean {
    const token = this.peek();
    return token.type === "symbol" && symbols.includes(token.text);
  }

  private unexpected(token: Token, expected?: string): never {
    const what = token.type === "end" ? "end of formula" : `"${token.text}"`;
    const hint = expected ? `, expected ${expected}` : "";
    throw new FormulaError(`unexpected ${what} at position ${token.position}${hint}`);
  }

  private expectEnd(): void {
    const token = this.peek();
    if (token.type !== "end") this.unexpected(token);
  }

  private expect(symbol: "(" | ")"): void {
    const token = this.next();
    if (token.type !== "symbol" || token.text !== symbol) this.unexpected(token, `"${symbol}"`);
  }

  private expression(): FormulaNode {
    let left = this.term();
    while (this.isSymbol("+", "-")) {
      const operator = this.next();
      left = this.binary(operator, left, this.term());
    }
    return left;
  }

  private term(): FormulaNode {
    let left = this.unary();
    while (this.isSymbol("*", "/")) {
      const operator = this.next();
      left = this.binary(operator, left, this.unary());
    }
    return left;
  }

  private unary(): FormulaNode {
    if (this.isSymbol("-")) {
      this.next();
      return { kind: "negate", operand: this.unary() };
    }
    return this.power();
  }

  private power(): FormulaNode {
    const base = this.primary();
    if (!this.isSymbol("^")) return base;
    const operator = this.next();
    // The exponent is parsed as a unary expression, which itself reaches power(): that makes ^ right-associative.
    return this.binary(operator, base, this.unary());
  }

  private primary(): FormulaNode {
    const token = this.next();
    switch (token.type) {
      case "number":
        return { kind: "number", value: new Money(token.text) };
      case "variable":
        return { kind: "variable", name: token.name };
      case "identifier": {
        if (token.text.toLowerCase() !== "ceil")
          throw new FormulaError(`unknown function "${token.text}" at position ${token.position}`);
        this.expect("(");
        const operand = this.expression();
        this.expect(")");
        return { kind: "ceil", operand };
      }
      case "symbol":
        if (token.text === "(") {
          const inner = this.expression();
          this.expect(")");
          return inner;
        }
        return this.unexpected(token);
      case "end":
        return this.unexpected(token);
    }
  }

  private binary(operator: Token, left: FormulaNode, right: FormulaNode): FormulaNode {
    return { kind: "binary", operator: operator.text as BinaryOperator, left, right, position: operator.position };
  }
}

/** Evaluates a parsed formula whose variables are already finite Money values (the pricing hot path). */
export function evaluateNode(node: FormulaNode, variables: Record<FormulaVariable, Money>): Money {
  switch (node.kind) {
    case "number":
      return node.value;
    case "variable":
      return variables[node.name];
    case "negate":
      return evaluateNode(node.operand, variables).negated();
    case "ceil":
      return evaluateNode(node.operand, variables).ceil();
    case "binary": {
      const left = evaluateNode(node.left, variables);
      const right = evaluateNode(node.right, variables);
      switch (node.operator) {
        case "+":
          return left.plus(right);
        case "-":
          return left.minus(right);
        case "*":
          return left.times(right);
        case "/":
          if (right.isZero()) throw new FormulaError(`division by zero at position ${node.position}`);
          return left.dividedBy(right);
        case "^":
          return power(left, right, node.position);
      }
    }
  }
}

// Integer exponents multiply out exactly (within Money's 40 digits); others go through Decimal's exp/ln.
function power(base: Money, exponent: Money, position: number): Money {
  if (base.isZero() && exponent.isNegative()) throw new FormulaError(`division by zero at position ${position}`);
  const result = base.pow(exponent);
  if (!result.isFinite()) throw new FormulaError(`"^" at position ${position} has no finite real result`);
  return result;
}

/** Parses a formula once; FormulaError names the offending token and its position. */
export function parseFormula(text: string): Formula {
  const ast = new Parser(tokenize(text)).parse();
  return {
    text,
    ast,
    evaluate: (variables) => evaluateFormula(ast, variables),
  };
}

export function evaluateFormula(ast: FormulaNode, variables: FormulaVariables): Money {
  const values = {} as Record<FormulaVariable, Money>;
  for (const name of FORMULA_VARIABLES) {
    let value: Money | undefined;
    try {
      value = new Money(variables[name]);
    } catch {
      // Money throws on text that is no number; the message below names the variable instead.
    }
    if (!value?.isFinite()) throw new FormulaError(`$${name} is not a finite number (got "${variables[name]}")`);
    values[name] = value;
  }
  return evaluateNode(ast, values);
}

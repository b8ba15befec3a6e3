import { Money } from "./decimal.js";

/**
 * Decimal arithmetic on BigInt that gives, operation by operation, the value Money (decimal.js, 40 significant
 * digits, ROUND_HALF_EVEN) gives: every result is the exact result correctly rounded to 40 significant digits, which
 * is what decimal.js guarantees for plus, minus, times and dividedBy. Pricing a month of a foundation spends most of
 * its time in these few operations, and decimal.js allocates digit arrays for each; here a value is one BigInt and
 * an exponent. Zero has no sign here (decimal.js keeps -0), which changes no printed amount and no later result.
 */
export interface Exact {
  /** The value is `coefficient × 10^exponent`. */
  readonly coefficient: bigint;
  readonly exponent: number;
}

const PRECISION = 40;
const LIMIT = 10n ** BigInt(PRECISION);
const POWERS: bigint[] = [1n];

function pow10(n: number): bigint {
  for (let i = POWERS.length; i <= n; i++) POWERS.push((POWERS[i - 1] as bigint) * 10n);
  return POWERS[n] as bigint;
}

export const ZERO: Exact = { coefficient: 0n, exponent: 0 };

const LOG10_2 = Math.log10(2);

/**
 * Decimal digits of `magnitude` (≥ 1). A hexadecimal length costs no division, and gives the bit length within 3;
 * from the digits that many bits at least have, a comparison or two finds the count.
 */
function digits(magnitude: bigint): number {
  const bits = magnitude.toString(16).length * 4;
  let count = Math.max(1, Math.floor((bits - 4) * LOG10_2));
  while (magnitude >= pow10(count)) count++;
  return count;
}

/**
 * Rounds `magnitude` (≥ 0) to 40 significant digits, half to even; `sticky` says the exact value lies a little above
 * `magnitude` (a division's non-zero remainder), which decides a tie upwards.
 */
function rounded(negative: boolean, magnitude: bigint, exponent: number, sticky: boolean): Exact {
  if (magnitude < LIMIT) return { coefficient: negative ? -magnitude : magnitude, exponent };
  // Results just above 40 digits are the usual case: counting up from 41 is quicker than any conversion.
  let count = PRECISION + 1;
  while (count < PRECISION + 8 && magnitude >= pow10(count)) count++;
  if (count === PRECISION + 8) count = digits(magnitude);
  let drop = count - PRECISION;
  const unit = pow10(drop);
  let kept = magnitude / unit;
  const rest = magnitude - kept * unit;
  const half = unit / 2n;
  if (rest > half || (rest === half && (sticky || (kept & 1n) === 1n))) {
    kept += 1n;
    if (kept === LIMIT) {
      kept = LIMIT / 10n;
      drop += 1;
    }
  }
  return { coefficient: negative ? -kept : kept, exponent: exponent + drop };
}

function round(coefficient: bigint, exponent: number): Exact {
  return coefficient < 0n ? rounded(true, -coefficient, exponent, false) : rounded(false, coefficient, exponent, false);
}

export function plus(a: Exact, b: Exact): Exact {
  if (a.exponent === b.exponent) return round(a.coefficient + b.coefficient, a.exponent);
  if (a.exponent > b.exponent) {
    return round(a.coefficient * pow10(a.exponent - b.exponent) + b.coefficient, b.exponent);
  }
  return round(a.coefficient + b.coefficient * pow10(b.exponent - a.exponent), a.exponent);
}

export function minus(a: Exact, b: Exact): Exact {
  return plus(a, { coefficient: -b.coefficient, exponent: b.exponent });
}

export function times(a: Exact, b: Exact): Exact {
  return round(a.coefficient * b.coefficient, a.exponent + b.exponent);
}

/** a / b; the caller checks b for zero. */
export function dividedBy(a: Exact, b: Exact): Exact {
  if (a.coefficient === 0n) return ZERO;
  const negative = a.coefficient < 0n !== b.coefficient < 0n;
  const n = a.coefficient < 0n ? -a.coefficient : a.coefficient;
  const d = b.coefficient < 0n ? -b.coefficient : b.coefficient;
  // Enough digits that the quotient has more than 40 of them, so the remainder only ever breaks a tie.
  const shift = Math.max(0, PRECISION + 1 + digits(d) - digits(n));
  const scaled = n * pow10(shift);
  const quotient = scaled / d;
  return rounded(negative, quotient, a.exponent - b.exponent - shift, quotient * d !== scaled);
}

export function negated(a: Exact): Exact {
  return { coefficient: -a.coefficient, exponent: a.exponent };
}

export function ceil(a: Exact): Exact {
  if (a.exponent >= 0) return a;
  const unit = pow10(-a.exponent);
  // BigInt division truncates towards zero, which is the ceiling of a negative value.
  const whole = a.coefficient / unit;
  return { coefficient: a.coefficient > 0n && whole * unit !== a.coefficient ? whole + 1n : whole, exponent: 0 };
}

export const isZero = (a: Exact): boolean => a.coefficient === 0n;

/** A decimal text as Money reads it (`12`, `-0.5`, `1.5e-3`, `1e+21`), without rounding, as Money's constructor. */
export function parseExact(text: string): Exact {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  const [, sign = "", whole = "", fraction = "", power = "0"] = match ?? [];
  if (!match || whole + fraction === "") throw new RangeError(`"${text}" is not a decimal number`);
  const magnitude = BigInt(whole + fraction);
  return { coefficient: sign === "-" ? -magnitude : magnitude, exponent: Number(power) - fraction.length };
}

// Sizes (nodes, megabytes) repeat for every interval; each of the common ones is made once.
const SMALL: Exact[] = [];
const SMALL_LIMIT = 65_536;

/** A finite number as Money reads it: integers directly, others through their shortest decimal spelling. */
export function exactOf(value: number): Exact {
  if (Number.isSafeInteger(value)) {
    if (value < 0 || value >= SMALL_LIMIT) return { coefficient: BigInt(value), exponent: 0 };
    let small = SMALL[value];
    if (!small) {
      small = { coefficient: BigInt(value), exponent: 0 };
      SMALL[value] = small;
    }
    return small;
  }
  return parseExact(String(value));
}

export const fromMoney = (value: Money): Exact => parseExact(value.toString());

export const toMoney = (value: Exact): Money => new Money(`${value.coefficient}e${value.exponent}`);

/** The exact value in plain notation without trailing zeros, as Money's `toFixed()` prints it. */
export function toFixed(value: Exact): string {
  let c = value.coefficient;
  let e = value.exponent;
  if (c === 0n) return "0";
  while (e < 0 && c % 10n === 0n) {
    c /= 10n;
    e++;
  }
  const negative = c < 0n;
  let text = (negative ? -c : c).toString();
  if (e > 0) text += "0".repeat(e);
  else if (e < 0) {
    const point = text.length + e;
    text = point > 0 ? `${text.slice(0, point)}.${text.slice(point)}` : `0.${"0".repeat(-point)}${text}`;
  }
  return negative ? `-${text}` : text;
}

/** `places` decimals, half to even, as roundMinor prints Money. */
export function toMinor(value: Exact, places = 2): string {
  const shift = -places - value.exponent;
  let c = value.coefficient;
  if (shift > 0) {
    const unit = pow10(shift);
    const negative = c < 0n;
    const magnitude = negative ? -c : c;
    let kept = magnitude / unit;
    const rest = magnitude - kept * unit;
    const half = unit / 2n;
    if (rest > half || (rest === half && (kept & 1n) === 1n)) kept += 1n;
    c = negative ? -kept : kept;
  } else if (shift < 0) {
    c *= pow10(-shift);
  }
  const negative = c < 0n;
  const text = (negative ? -c : c).toString().padStart(places + 1, "0");
  const body = places > 0 ? `${text.slice(0, -places)}.${text.slice(-places)}` : text;
  return negative && c !== 0n ? `-${body}` : body;
}

/**
 * A bench option that must be a positive number: the fallback when absent, else the parsed value, or a RangeError
 * naming the option. Whole numbers unless `integer` is false; at most `max`.
 */
export function positiveOption(
  name: string,
  value: string | undefined,
  fallback: number,
  { integer = true, max = Number.MAX_SAFE_INTEGER }: { integer?: boolean; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > max || (integer && !Number.isInteger(parsed))) {
    const what = integer ? "an integer" : "a number";
    const range = max === Number.MAX_SAFE_INTEGER ? "above 0" : `from ${integer ? 1 : "above 0"} to ${max}`;
    throw new RangeError(`--${name} must be ${what} ${range} (got "${value}")`);
  }
  return parsed;
}

import { Decimal } from "decimal.js";

// One configured Decimal for every money computation: 40 significant digits and banker's rounding
// (ROUND_HALF_EVEN) when a total is rounded to the currency's minor unit.
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
export type Money = InstanceType<typeof Money>;

/** Rounds a total to the currency's minor unit (2 places) with banker's rounding. */
export function roundMinor(value: Money, places = 2): string {
  return value.toDecimalPlaces(places, Money.ROUND_HALF_EVEN).toFixed(places);
}

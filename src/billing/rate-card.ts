import { TIERS, type Tier } from "../usage/vm-rollup.js";
import { Money } from "./decimal.js";

export interface TierRates {
  vcpu_hour: Money;
  ram_gb_hour: Money;
  disk_gb_month: Money;
}

export type RateCard = Record<Tier, TierRates>;

export class RateCardError extends Error {
  override name = "RateCardError";
}

type RawRates = Record<
  string,
  { vcpu_hour: number | string; ram_gb_hour: number | string; disk_gb_month: number | string }
>;

/**
 * Builds the tier rate card from settings. Numbers from YAML are read through their shortest decimal spelling
 * (0.01 stays 0.01, not the binary float next to it). A missing card prices everything at zero, so rollups
 * and reports work before anyone has agreed on prices.
 */
export function parseRateCard(raw: RawRates | undefined): RateCard {
  const card = {} as RateCard;
  for (const tier of TIERS) {
    const rates = raw?.[tier];
    const read = (field: keyof TierRates) => {
      const value = rates?.[field] ?? 0;
      try {
        const d = new Money(String(value));
        if (d.isNegative() || !d.isFinite()) throw new Error("negative");
        return d;
      } catch {
        throw new RateCardError(`billing.rate_card.${tier}.${field} must be a non-negative decimal (got "${value}")`);
      }
    };
    card[tier] = {
      vcpu_hour: read("vcpu_hour"),
      ram_gb_hour: read("ram_gb_hour"),
      disk_gb_month: read("disk_gb_month"),
    };
  }
  return card;
}

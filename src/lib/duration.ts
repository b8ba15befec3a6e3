const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Go-style durations as paas-billing's settings write them ("1m", "3s", "5m", "1h30m", "500ms") in milliseconds;
 * undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let matched = false;
  while (pattern.lastIndex < trimmed.length) {
    const m = pattern.exec(trimmed);
    if (!m) return undefined;
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    matched = true;
  }
  return matched ? total : undefined;
}

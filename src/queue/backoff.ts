/**
 * Delay before retry number `attempt` (1 = first retry): min(cap, base·2^(attempt-1)), then "full jitter" — a
 * uniform pick in [delay/2, delay] — so jobs that failed together do not all retry in the same instant.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

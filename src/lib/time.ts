/** The one timestamp format stored everywhere: ISO-8601 UTC with milliseconds, which sorts correctly as text. */
export function iso(date: Date | number): string {
  return new Date(date).toISOString();
}

export function addMinutes(at: string | Date, minutes: number): string {
  return iso(new Date(at).getTime() + minutes * 60_000);
}

/** Parses an ISO-8601 time given by a user; undefined when it is not one. */
export function parseIsoTime(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

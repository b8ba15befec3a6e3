const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?\s/;
const BSD = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)\s/;

/**
 * The time at the start of a syslog line, in Unix seconds: RFC 3339 (rsyslog's high-precision default on current
 * distributions) or the classic "May  2 10:15:32" form, which has no year or zone — read as local time in the year
 * that puts it at most a day in the future of `now`. Undefined when the line starts with neither.
 */
export function syslogTimestamp(line: string, now: Date): number | undefined {
  const iso = ISO.exec(line);
  if (iso) {
    // Date.parse keeps milliseconds only; the fraction is added apart so microseconds survive.
    const ms = Date.parse(`${iso[1]}${iso[3] ?? ""}`);
    return Number.isFinite(ms) ? ms / 1000 + Number(iso[2] ?? 0) : undefined;
  }
  const bsd = BSD.exec(line);
  if (!bsd) return undefined;
  const month = MONTHS.indexOf(bsd[1] as string);
  if (month < 0) return undefined;
  const at = (year: number) =>
    new Date(year, month, Number(bsd[2]), Number(bsd[3]), Number(bsd[4]), Number(bsd[5])).getTime();
  let ms = at(now.getFullYear());
  if (ms > now.getTime() + 86_400_000) ms = at(now.getFullYear() - 1);
  return ms / 1000;
}

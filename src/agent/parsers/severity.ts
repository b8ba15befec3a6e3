import type { Severity } from "../types.js";

// Plain log files carry no level field, so the level is guessed from words in the line. Error words win over warning
// words ("failed … warning" is an error); a line with neither gets no severity rather than a made-up INFO.
const ERROR_WORDS = /\b(emerg(ency)?|alert|crit(ical)?|err(or)?s?|fatal|panic|fail(ed|ure)?|exception|segfault|oom)\b/i;
const WARN_WORDS = /\b(warn(ing)?s?|deprecated)\b/i;
const DEBUG_WORDS = /\b(debug|trace)\b/i;

export function guessSeverity(line: string): Severity | null {
  if (ERROR_WORDS.test(line)) return "ERROR";
  if (WARN_WORDS.test(line)) return "WARN";
  if (DEBUG_WORDS.test(line)) return "DEBUG";
  return null;
}

/** syslog(3) priorities 0–7 as journald's PRIORITY and the kernel's log levels use them. */
export function severityOfPriority(priority: number): Severity | null {
  if (!Number.isInteger(priority) || priority < 0 || priority > 7) return null;
  if (priority <= 3) return "ERROR";
  if (priority === 4) return "WARN";
  if (priority <= 6) return "INFO";
  return "DEBUG";
}

import { readFileSync } from "node:fs";

/** The package version, reported at enrolment and in the inventory. */
export const AGENT_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

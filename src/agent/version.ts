// Imported rather than read from disk so the agent bundle carries the version inside it.
import packageJson from "../../package.json" with { type: "json" };

/** The package version, reported at enrolment and in the inventory. */
export const AGENT_VERSION: string = packageJson.version;

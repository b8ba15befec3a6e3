import { fileURLToPath } from "node:url";

// Where the agent's code runs from. From its TypeScript sources (Node's type stripping, tsx, vitest) every module's
// import.meta.url is its own `.ts` file; in the one-file bundle `fleetledger agent build` writes, it is the bundle's.
const here = fileURLToPath(import.meta.url);

/** The bundle this code runs from, or undefined when it runs from the sources. */
export const RUNNING_BUNDLE: string | undefined = here.endsWith(".ts") ? undefined : here;

/** Node arguments that start the agent's own entry point: the bundle, else main.ts under type stripping. */
export function agentEntryArgs(): string[] {
  if (RUNNING_BUNDLE) return [RUNNING_BUNDLE];
  return [
    "--disable-warning=ExperimentalWarning",
    "--import",
    fileURLToPath(new URL("ts-resolve.ts", import.meta.url)),
    fileURLToPath(new URL("main.ts", import.meta.url)),
  ];
}

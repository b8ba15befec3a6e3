import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Where `fleetledger agent build` writes the bundle unless told otherwise (git-ignored). */
export function defaultBundlePath(): string {
  return fileURLToPath(new URL("../../dist/fleetledger-agent.mjs", import.meta.url));
}

/**
 * Writes the agent (src/agent/main.ts and every package it imports) as one ESM JavaScript file. The long-running
 * agent then loads no TypeScript: Node's type stripping alone costs it ~17 MB of resident memory, and one file
 * parses into less memory than the same modules loaded one by one from node_modules.
 */
export async function buildAgentBundle(outFile: string): Promise<{ path: string; bytes: number }> {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [fileURLToPath(new URL("main.ts", import.meta.url))],
    outfile: outFile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    // Identifiers are kept so stack traces in the journal name real functions; renaming them saved no memory.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "eof",
    // Bundled CommonJS packages call require() for Node's built-in modules, which ESM does not define.
    banner: {
      js: 'import{createRequire as __agentRequire}from"node:module";const require=__agentRequire(import.meta.url);',
    },
    // Only `agent build` needs esbuild, and a bundle never runs that command (src/agent/cli.ts).
    external: ["esbuild"],
    logLevel: "silent",
  });
  return { path: outFile, bytes: statSync(outFile).size };
}

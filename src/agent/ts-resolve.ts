import { registerHooks } from "node:module";

// Lets Node run the agent's TypeScript sources directly (built-in type stripping) instead of through tsx, which
// would cost the long-running agent ~30 MB of resident memory. The sources import siblings with a `.js` suffix, as
// tsc's NodeNext mode requires; this resolves such a specifier to the `.ts` file beside it.
registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const relative = specifier.startsWith("./") || specifier.startsWith("../");
      if (!relative || !specifier.endsWith(".js") || (err as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") {
        throw err;
      }
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
  },
});

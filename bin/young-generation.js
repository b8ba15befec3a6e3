// Plain JavaScript: it runs before the TypeScript loader is registered, so a restart costs no loading twice.

/** Commands that run for days under load. One-shot commands keep V8's defaults. */
const LONG_RUNNING = new Set(["serve", "worker"]);
/** Global options that take a value, so their value is not mistaken for the command. */
const OPTIONS_WITH_VALUE = new Set(["-c", "--config", "-d", "--data-dir"]);
const FLAG = "--max-semi-space-size";
const SEMI_SPACE_MB = 8;
/** The old generation is collected once it grows by half over what survived the last collection (V8 allows up to 4×). */
const HEAP_GROWING_PERCENT = 50;

function command(args) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/**
 * Under inventory ingest V8 grew the server's young generation to 128 MB (two 64 MB semi-spaces) and let the old
 * generation reach about three times its live size before collecting it, all of it resident, for garbage that dies
 * within a request or two. V8 reads these limits only when it starts, so `serve` and `worker` replace themselves
 * once, in place (same process id, same open files), with an 8 MB semi-space and a tighter old-generation growth.
 * A semi-space limit given in NODE_OPTIONS or on the command line leaves the process alone, and so does a Node.js
 * without process.execve (before 23.11).
 */
export function boundYoungGeneration() {
  if (!LONG_RUNNING.has(command(process.argv.slice(2)))) return;
  if (typeof process.execve !== "function") return;
  if ([...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((a) => a.startsWith(FLAG))) return;
  process.execve(
    process.execPath,
    [
      process.execPath,
      `${FLAG}=${SEMI_SPACE_MB}`,
      `--heap-growing-percent=${HEAP_GROWING_PERCENT}`,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    process.env,
  );
}

import { readFactSources } from "./facts.js";

// Runs in a short-lived child process: systeminformation adds ~30 MB of resident memory to whatever loads it, and
// the inventory is read once every `inventory_interval`, so the long-running agent never loads it.
process.stdout.write(JSON.stringify(await readFactSources()));

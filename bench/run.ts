/**
 * `npm run bench -- NAME [options]`. Each bench lives in its own module, loaded only when asked for, so adding one
 * is one entry here.
 */
const BENCHES: Record<string, { summary: string; load: () => Promise<{ main(args: string[]): Promise<number> }> }> = {
  inventory: {
    summary: "inventory ingest over HTTP: documents/s, latency, diff-queue lag, RSS, ratio to the parse+hash limit",
    load: () => import("./inventory.js"),
  },
  billing: {
    summary: "Cloud Foundry usage: ingest from the simulator, monthly bill for all orgs vs priceTotals alone",
    load: () => import("./billing.js"),
  },
  metrics: {
    summary:
      "agent metric batches over HTTP: stored samples/s, latency, RSS, ratio to raw SQLite inserts; 90-day rate query",
    load: () => import("./metrics.js"),
  },
  agent: {
    summary: "the agent (os + docker against the simulator + a file log) in a child process: CPU per cycle, RSS",
    load: () => import("./agent.js"),
  },
  vsphere: {
    summary: "vCenter snapshot vs govmomi, daily/monthly rollups on SQLite and PostgreSQL vs one hand-tuned statement",
    load: () => import("./vsphere.js"),
  },
};

function usage(): string {
  const names = Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(12)} ${b.summary}`);
  return `usage: npm run bench -- NAME [options]   (npm run bench -- NAME --help for its options)\n\nbenches:\n${names.join("\n")}\n`;
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === "--help" || name === "-h") {
  process.stdout.write(usage());
  process.exit(name === undefined ? 2 : 0);
}
const bench = BENCHES[name];
if (!bench) {
  process.stderr.write(`unknown bench "${name}"\n\n${usage()}`);
  process.exit(2);
}
try {
  process.exitCode = await (await bench.load()).main(args);
} catch (err) {
  process.stderr.write(`bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}

import { parseArgs } from "node:util";
import { generateUsageEvents, SIM_DEFAULTS, startCloudFoundrySim } from "./cloudfoundry.js";

// A demo foundation to point a Fleetledger `cloudfoundry.foundations` entry at:
//   tsx src/sim/cloudfoundry-cli.ts --port 9022 --orgs 5 --days 60
// It prints the API address and credentials as JSON and serves until interrupted.

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "uaa-port": { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
    orgs: { type: "string", default: "3" },
    "spaces-per-org": { type: "string", default: "2" },
    "apps-per-space": { type: "string", default: "3" },
    "services-per-space": { type: "string", default: "2" },
    start: { type: "string" },
    days: { type: "string", default: "30" },
  },
});

const integer = (name: keyof typeof values): number => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer`);
  return value;
};

const sim = await startCloudFoundrySim({ port: integer("port"), uaaPort: integer("uaa-port") });
const events = generateUsageEvents({
  seed: integer("seed"),
  orgs: integer("orgs"),
  spacesPerOrg: integer("spaces-per-org"),
  appsPerSpace: integer("apps-per-space"),
  servicesPerSpace: integer("services-per-space"),
  days: integer("days"),
  ...(values.start === undefined ? {} : { start: values.start }),
});
sim.addAppEvents(events.app);
sim.addServiceEvents(events.service);

console.log(
  JSON.stringify(
    {
      api: sim.url,
      uaa: sim.uaaUrl,
      client_id: SIM_DEFAULTS.client.client_id,
      client_secret: SIM_DEFAULTS.client.client_secret,
      username: SIM_DEFAULTS.user.username,
      password: SIM_DEFAULTS.user.password,
      app_events: events.app.length,
      service_events: events.service.length,
    },
    null,
    2,
  ),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void sim.stop();
  });
}

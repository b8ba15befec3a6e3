import type { LightMyRequestResponse } from "fastify";
import { clientToken } from "../../src/auth/client-token.js";
import { createToken } from "../../src/auth/tokens.js";
import type { Settings } from "../../src/config/schema.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import type { TestDialect } from "../helpers/env.js";
import { createTestServer, type TestServer } from "../helpers/server.js";

export interface Agent {
  id: string;
  token: string;
}

export interface TelemetryFixture {
  server: TestServer;
  admin: string;
  viewer: string;
  /** A system in organization "acme" with its agent token. */
  agent(name: string): Promise<Agent>;
  push(agent: Agent | string, body: unknown): Promise<LightMyRequestResponse>;
  get(url: string, auth?: string): Promise<LightMyRequestResponse>;
}

export async function telemetryFixture(
  dialect: TestDialect,
  configure?: (settings: Settings) => void,
): Promise<TelemetryFixture> {
  const server = await createTestServer(dialect, configure);
  const db = server.ctx.database.db;
  await createOrganization(db, "acme");
  const admin = `Bearer ${await createToken(db, "ops", "admin")}`;
  const viewer = `Bearer ${await createToken(db, "look", "viewer")}`;
  return {
    server,
    admin,
    viewer,
    async agent(name) {
      const created = await createSystem(db, "acme", name);
      return { id: created.id, token: clientToken(created.system_key, created.system_secret) };
    },
    push(agent, body) {
      return server.app.inject({
        method: "POST",
        url: "/api/metrics",
        headers: {
          authorization: `Bearer ${typeof agent === "string" ? agent : agent.token}`,
          "content-type": "application/json",
        },
        payload: typeof body === "string" ? body : JSON.stringify(body),
      });
    },
    get(url, auth = viewer) {
      return server.app.inject({ method: "GET", url, headers: { authorization: auth } });
    },
  };
}

/** Unix seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

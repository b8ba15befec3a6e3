import type { FastifyInstance } from "fastify";
import { buildServer } from "../../src/app/server.js";
import type { Settings } from "../../src/config/schema.js";
import { createTestEnv, type TestDialect, type TestEnv } from "./env.js";

export interface TestServer extends TestEnv {
  app: FastifyInstance;
}

/** A server built on a test environment; requests go through Fastify's full HTTP pipeline via inject(). */
export async function createTestServer(
  dialect: TestDialect,
  configure?: (settings: Settings) => void,
): Promise<TestServer> {
  const env = await createTestEnv(dialect, configure);
  const app = await buildServer(env.ctx);
  await app.ready();
  return {
    ...env,
    app,
    async cleanup() {
      await app.close();
      await env.cleanup();
    },
  };
}

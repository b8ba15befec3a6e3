import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import WebSocket from "ws";
import { buildServer } from "../../src/app/server.js";
import { clientToken } from "../../src/auth/client-token.js";
import { createToken } from "../../src/auth/tokens.js";
import type { Settings } from "../../src/config/schema.js";
import { createOrganization, createSystem } from "../../src/systems/registry.js";
import { createTestEnv, type TestDialect, type TestEnv } from "../helpers/env.js";

const FAKE_IPMITOOL = fileURLToPath(new URL("./fixtures/fake-ipmitool", import.meta.url));

export interface AgentSystem {
  id: string;
  token: string;
}

export interface CommandServer extends TestEnv {
  app: FastifyInstance;
  base: string;
  admin: string;
  adminTokenId: string;
  viewer: string;
  /** A copy of the fake ipmitool in this server's temp dir; its argv log sits beside it. */
  ipmitool: string;
  newSystem(name: string): Promise<AgentSystem>;
  ipmitoolCalls(): string[];
  post(path: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  get(path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  waitFor(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export const silentLog = pino({ level: "silent" });

/** A real server listening on a free port, with an organization, an admin and a viewer token. */
export async function startCommandServer(
  dialect: TestDialect,
  configure?: (settings: Settings) => void,
): Promise<CommandServer> {
  const env = await createTestEnv(dialect, configure);
  const app = await buildServer(env.ctx);
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  const db = env.ctx.database.db;
  await createOrganization(db, "Acme");
  const admin = await createToken(db, "ci-admin", "admin");
  const viewer = await createToken(db, "ci-viewer", "viewer");
  const ipmitool = join(env.dataDir, "ipmitool");
  copyFileSync(FAKE_IPMITOOL, ipmitool);

  async function call(method: string, path: string, token: string | undefined, body?: unknown) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  return {
    ...env,
    app,
    base,
    admin,
    adminTokenId: admin.split("_")[1] as string,
    viewer,
    ipmitool,
    async newSystem(name) {
      const system = await createSystem(db, "Acme", name);
      return { id: system.id, token: clientToken(system.system_key, system.system_secret) };
    },
    ipmitoolCalls() {
      const log = `${ipmitool}.argv`;
      return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
    },
    post: (path, body, token = admin) => call("POST", path, token, body),
    get: (path, token = admin) => call("GET", path, token),
    async waitFor(condition, what, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async cleanup() {
      await app.close();
      await env.cleanup();
    },
  };
}

/** A hand-driven agent socket: it sends what the test says, and answers nothing by itself. */
export async function openRawAgent(base: string, token: string | undefined): Promise<WebSocket> {
  const socket = new WebSocket(`${base.replace(/^http/, "ws")}/ws/agent`, {
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return socket;
}

export function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

export function nextMessage(socket: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    socket.once("message", (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
  });
}

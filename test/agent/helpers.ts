import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { type AgentConfig, validateAgentConfig } from "../../src/agent/config.js";
import { startServer } from "../../src/app/server.js";
import { createToken } from "../../src/auth/tokens.js";
import { createTestEnv, type TestEnv } from "../helpers/env.js";

export const silent = pino({ level: "silent" });

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Agent settings for tests: every exporter and log source off unless `raw` turns it on. */
export function testConfig(stateDir: string, raw: Record<string, unknown> = {}): AgentConfig {
  // A fresh object per key: defaults are filled in place, so a shared one would collect every section's keys.
  const off = () => ({ enabled: false });
  return validateAgentConfig(
    {
      state_dir: stateDir,
      exporters: { os: off(), docker: off(), nvidia: off(), ipmi: off(), nvme: off() },
      logs: { journal: off(), syslog: off(), dmesg: off(), docker: off(), files: [] },
      ...raw,
    },
    "test",
  );
}

export interface LiveServer {
  env: TestEnv;
  url: string;
  enrolToken: string;
  close(): Promise<void>;
}

/** A real Fleetledger server (SQLite) listening on a free port, with an enrolment token. */
export async function liveServer(): Promise<LiveServer> {
  const env = await createTestEnv("sqlite");
  const enrolToken = await createToken(env.ctx.database.db, "agents", "enroll");
  const { app, address } = await startServer(env.ctx, 0, "127.0.0.1");
  return {
    env,
    url: address,
    enrolToken,
    async close() {
      await app.close(); // closes the context too
      rmSync(env.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A reverse proxy in front of the server whose answers a test can override: `mode` "forward" passes requests on,
 * "503" answers Service Unavailable with Retry-After, "400" refuses the body, "down" resets the connection as a dead host would.
 */
export async function flakyProxy(target: string): Promise<{
  url: string;
  mode: "forward" | "503" | "400" | "down";
  seen: string[];
  close(): Promise<void>;
}> {
  const state = { mode: "forward" as "forward" | "503" | "400" | "down", seen: [] as string[] };
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    state.seen.push(`${req.method} ${req.url} ${state.mode}`);
    if (state.mode === "down") {
      req.socket.destroy();
      return;
    }
    if (state.mode === "400") {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "invalid_request", message: "metrics must be an array" }));
      return;
    }
    if (state.mode === "503") {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
      res.end(JSON.stringify({ error: "busy", message: "try later" }));
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

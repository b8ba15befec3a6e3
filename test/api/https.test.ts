import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { startServer } from "../../src/app/server.js";
import { createTestEnv, type TestEnv } from "../helpers/env.js";

describe("HTTPS (vCTP bind_disable_tls: false)", () => {
  let env: TestEnv;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    await env?.cleanup();
  });

  it("serves over TLS with the configured certificate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fl-tls-"));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-days",
        "1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      {
        stdio: "ignore",
      },
    );
    env = await createTestEnv("sqlite", (s) => {
      s.settings.bind_disable_tls = false;
      s.settings.tls_cert_filename = cert;
      s.settings.tls_key_filename = key;
      s.server.worker = false;
    });
    const { app, address } = await startServer(env.ctx, 0, "127.0.0.1");
    close = async () => {
      await app.close();
    };
    expect(address).toMatch(/^https:\/\//);
    const res = await request(`${address}/healthz`, {
      dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ status: "ok" });
  });
});

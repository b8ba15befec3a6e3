import { constants, generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/tokens.js";
import { DIALECTS } from "../helpers/env.js";
import { nowSeconds, type TelemetryFixture, telemetryFixture } from "./fixture.js";

const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" });

/** Signs as dcmon's client does: RSA-PSS, MGF1-SHA-256, maximal salt length, base64. */
function dcmonSignature(message: string): string {
  return sign("sha256", Buffer.from(message), {
    key: privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
  }).toString("base64");
}

describe.each(DIALECTS)("POST /api/clients/register on %s", (dialect) => {
  let fx: TelemetryFixture;
  let enroll: string;
  beforeAll(async () => {
    // The credential cache stays on (its default): a rotated secret must stop working at once all the same.
    fx = await telemetryFixture(dialect);
    enroll = `Bearer ${await createToken(fx.server.ctx.database.db, "enrol", "enroll")}`;
  });
  afterAll(async () => fx?.server.cleanup());

  const register = (body: unknown, auth: string | null = fx.admin) =>
    fx.server.app.inject({
      method: "POST",
      url: "/api/clients/register",
      headers: auth ? { authorization: auth } : {},
      payload: body as object,
    });
  const canPush = async (token: string) =>
    (await fx.push(token, { metrics: [{ timestamp: nowSeconds(), metric_name: "up", value: 1 }] })).statusCode;

  it("creates a system and agent record in the default organization and answers a working token", async () => {
    const res = await register({ hostname: "gpu-17", machine_id: "m-gpu-17", hw_hash: "h1", agent_version: "0.1.0" });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(["client_id", "client_token", "system_key", "system_secret"]);
    expect(body.client_token).toBe(`flc_${body.system_key}_${body.system_secret}`);
    expect(await canPush(body.client_token)).toBe(200);

    const db = fx.server.ctx.database.db;
    const system = await db
      .selectFrom("systems")
      .innerJoin("organizations", "organizations.id", "systems.org_id")
      .select(["systems.name", "systems.system_key", "organizations.name as org"])
      .where("systems.id", "=", body.client_id)
      .executeTakeFirstOrThrow();
    expect(system).toEqual({ name: "gpu-17", system_key: body.system_key, org: "default" });
    const client = await db
      .selectFrom("agent_clients")
      .select(["hostname", "machine_id", "hw_hash", "agent_version", "registered_at"])
      .where("system_id", "=", body.client_id)
      .executeTakeFirstOrThrow();
    expect(client).toMatchObject({ hostname: "gpu-17", machine_id: "m-gpu-17", hw_hash: "h1", agent_version: "0.1.0" });
  });

  it("lets enrolment and admin tokens register, and refuses viewers and anonymous callers", async () => {
    expect((await register({ hostname: "e1" }, enroll)).statusCode).toBe(201);
    const viewer = await register({ hostname: "v1" }, fx.viewer);
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json().error).toBe("forbidden");
    const anonymous = await register({ hostname: "n1" }, null);
    expect(anonymous.statusCode).toBe(401);
    expect((await register({ machine_id: "no-hostname" })).statusCode).toBe(400);
    expect((await register({ hostname: "" })).statusCode).toBe(400);
  });

  it("reuses the system of a known machine_id with a new secret; the old token stops working", async () => {
    const first = (await register({ hostname: "n-1", machine_id: "machine-reuse" })).json();
    // A push puts the first secret into the credential cache, which the rotation must clear.
    expect(await canPush(first.client_token)).toBe(200);
    const second = (await register({ hostname: "n-1-renamed", machine_id: "machine-reuse" }, enroll)).json();
    expect(second.client_id).toBe(first.client_id);
    expect(second.system_key).toBe(first.system_key);
    expect(second.system_secret).not.toBe(first.system_secret);
    expect(await canPush(first.client_token)).toBe(401);
    expect(await canPush(second.client_token)).toBe(200);
    const client = await fx.server.ctx.database.db
      .selectFrom("agent_clients")
      .select("hostname")
      .where("system_id", "=", first.client_id)
      .executeTakeFirstOrThrow();
    expect(client.hostname).toBe("n-1-renamed");

    // The same machine_id in another organization is another host.
    const elsewhere = (await register({ hostname: "n-1", machine_id: "machine-reuse", org: "acme" })).json();
    expect(elsewhere.client_id).not.toBe(first.client_id);
    const unknown = await register({ hostname: "n-2", org: "nowhere" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ error: "unknown_organization", message: 'no organization "nowhere"' });
  });

  it("verifies dcmon's RSA-PSS signature when one is sent", async () => {
    const ts = nowSeconds();
    const signed = { hostname: "rsa-host", public_key: publicPem, timestamp: ts };
    const ok = await register({ ...signed, signature: dcmonSignature(`rsa-host:${ts}`) });
    expect(ok.statusCode).toBe(201);
    const challenge = `machine-9:rsa-host:${ts}`;
    const withChallenge = await register({ ...signed, challenge, signature: dcmonSignature(challenge) });
    expect(withChallenge.statusCode).toBe(201);

    const refusals: [object, string][] = [
      [{ ...signed, signature: dcmonSignature(`other-host:${ts}`) }, "signature does not verify against public_key"],
      [{ ...signed, public_key: other, signature: dcmonSignature(`rsa-host:${ts}`) }, "signature does not verify"],
      [
        { ...signed, timestamp: ts - 400, signature: dcmonSignature(`rsa-host:${ts - 400}`) },
        "timestamp must be within 300 s",
      ],
      [{ ...signed, challenge: "rsa-host:1", signature: dcmonSignature("rsa-host:1") }, "challenge must end with"],
      [{ ...signed, public_key: "not a key", signature: "AAAA" }, "public_key is not a PEM public key"],
      [{ hostname: "rsa-host", signature: "AAAA" }, "public_key, signature and timestamp go together"],
    ];
    for (const [body, message] of refusals) {
      const res = await register(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe("invalid_signature");
      expect(res.json().message).toContain(message);
    }
  });
});

import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decryptLegacy,
  decryptSecret,
  deriveKey,
  encryptSecret,
  hostKeyMaterial,
  resolveSecret,
  SecretError,
} from "../../src/auth/secret-box.js";

const key = deriveKey("correct horse battery staple");
const otherKey = deriveKey("another encryption key");

/** vCTP's pre-prefix format, built independently of the code under test. */
function legacyEncrypt(plain: string, legacyKey: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", legacyKey, nonce);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
}

function decryptError(value: string, withKey = key): unknown {
  try {
    decryptSecret(value, withKey, "vcenter_password");
  } catch (err) {
    return err;
  }
  throw new Error("decryptSecret accepted the value");
}

describe("secret box", () => {
  it("round-trips enc:v1 values with a fresh IV each time", () => {
    const a = encryptSecret("VMware1!", key);
    const b = encryptSecret("VMware1!", key);
    expect(a).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(decryptSecret(a, key)).toBe("VMware1!");
    expect(decryptSecret(b, key)).toBe("VMware1!");
  });

  it("rejects a value encrypted under a different encryption_key", () => {
    const err = decryptError(encryptSecret("VMware1!", key), otherKey);
    expect(err).toBeInstanceOf(SecretError);
    expect((err as Error).message).toBe(
      "vcenter_password: encrypted value cannot be decrypted with the configured key " +
        "(encrypted on another host or with another encryption_key, or altered)",
    );
  });

  it.each([
    ["not base64", "enc:v1:not*base64!", "vcenter_password: encrypted value is malformed (not base64url)"],
    ["an empty payload", "enc:v1:", "vcenter_password: encrypted value is malformed (payload too short)"],
    [
      "a 5-byte payload",
      `enc:v1:${randomBytes(5).toString("base64url")}`,
      "vcenter_password: encrypted value is malformed (payload too short)",
    ],
    [
      "an IV-only payload",
      `enc:v1:${randomBytes(12).toString("base64url")}`,
      "vcenter_password: encrypted value is malformed (payload too short)",
    ],
  ])("rejects %s as malformed with a SecretError", (_label, value, message) => {
    const err = decryptError(value);
    expect(err).toBeInstanceOf(SecretError);
    expect((err as Error).message).toBe(message);
  });

  it("rejects a tampered tag with a SecretError", () => {
    const payload = Buffer.from(encryptSecret("VMware1!", key).slice("enc:v1:".length), "base64url");
    payload[payload.length - 1] = (payload[payload.length - 1] ?? 0) ^ 0x01;
    const err = decryptError(`enc:v1:${payload.toString("base64url")}`);
    expect(err).toBeInstanceOf(SecretError);
    expect((err as Error).message).toMatch(/cannot be decrypted with the configured key/);
  });

  it("opens legacy values with whichever key fits and ignores anything else", () => {
    const legacy = legacyEncrypt("VMware1!", otherKey);
    expect(decryptLegacy(legacy, [key, otherKey])).toBe("VMware1!");
    expect(decryptLegacy(legacy, [key])).toBeNull();
    expect(decryptLegacy("s3cret", [key, otherKey])).toBeNull();
  });

  it("migrates legacy values and plaintext to enc:v1 but leaves enc:v1 values as they are", () => {
    const keys = { active: key, legacy: [otherKey] };
    const legacy = resolveSecret(legacyEncrypt("VMware1!", otherKey), keys, "vcenter_password");
    expect(legacy.plain).toBe("VMware1!");
    expect(decryptSecret(legacy.rewrite ?? "", key)).toBe("VMware1!");
    const plain = resolveSecret("s3cret", keys, "vcenter_password");
    expect(plain.plain).toBe("s3cret");
    expect(decryptSecret(plain.rewrite ?? "", key)).toBe("s3cret");
    expect(resolveSecret(plain.rewrite ?? "", keys, "vcenter_password")).toEqual({ plain: "s3cret", rewrite: null });
  });

  it("rejects enc:v1 values it cannot open instead of taking them as plaintext", () => {
    expect(() => resolveSecret("enc:v1:", { active: key, legacy: [] }, "vcenter_password")).toThrow(SecretError);
  });

  it("derives a stable host key", () => {
    expect(hostKeyMaterial()).not.toBe("");
    expect(hostKeyMaterial()).toBe(hostKeyMaterial());
    const hostKey = deriveKey(hostKeyMaterial());
    expect(hostKey).toHaveLength(32);
    expect(decryptSecret(encryptSecret("VMware1!", hostKey), deriveKey(hostKeyMaterial()))).toBe("VMware1!");
  });
});

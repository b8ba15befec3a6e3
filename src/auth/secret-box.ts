import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Encryption at rest for credentials kept in the settings file (`settings.vcenter_password`).
 *
 * Current format: `enc:v1:` + base64url(iv(12) | ciphertext | tag(16)), AES-256-GCM, fresh random IV per value.
 *
 * Legacy format (what vCTP wrote before the prefix existed): standard, padded base64 of nonce(12) | ciphertext |
 * tag(16), also AES-256-GCM, with no prefix. It is only ever read, never written: resolving such a value returns an
 * `enc:v1:` rewrite so files migrate forward on the next start.
 */

export const ENC_PREFIX = "enc:v1:";

const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const MIN_PAYLOAD = IV_LENGTH + TAG_LENGTH;
const MIN_PLAIN_LENGTH = 3;

// Without these files a host key falls back to the hostname, which containers regenerate on every re-creation.
const MACHINE_ID_FILES = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

export class SecretError extends Error {
  override name = "SecretError";
}

/**
 * Stretches any key material (the `encryption_key` setting or the host identity) to an AES-256 key. HKDF is not a
 * password hash: an `encryption_key` should be long and random, not a memorable word.
 */
export function deriveKey(material: string): Buffer {
  return Buffer.from(hkdfSync("sha256", material, "fleetledger", "settings credential encryption v1", 32));
}

/**
 * Key material identifying this host when `encryption_key` is unset: the systemd/dbus machine id, else the hostname.
 * Values encrypted with it only decrypt on the same host (or a clone of its image), so moving the settings file
 * elsewhere, restoring it onto a new machine or re-creating a container needs `encryption_key` set beforehand.
 * The machine id is readable by every local user, so this protects copies of the file (backups, tickets,
 * repositories), not the running host.
 */
export function hostKeyMaterial(): string {
  for (const file of MACHINE_ID_FILES) {
    try {
      const id = readFileSync(file, "utf8").trim();
      if (id !== "") return `machine-id:${id}`;
    } catch {
      // Missing or unreadable: try the next source.
    }
  }
  return `hostname:${hostname()}`;
}

export function encryptSecret(plain: string, key: Buffer): string {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_LENGTH });
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return ENC_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
}

/** Decrypts an `enc:v1:` value; every failure, whatever the input, is a `SecretError` naming the setting. */
export function decryptSecret(value: string, key: Buffer, name = "secret"): string {
  if (!value.startsWith(ENC_PREFIX)) throw new SecretError(`${name}: value does not start with ${ENC_PREFIX}`);
  const encoded = value.slice(ENC_PREFIX.length);
  const payload = Buffer.from(encoded, "base64url");
  // Node's decoder skips characters it does not know, so only a lossless round trip proves the text was base64url.
  if (payload.toString("base64url") !== encoded) {
    throw new SecretError(`${name}: encrypted value is malformed (not base64url)`);
  }
  if (payload.length < MIN_PAYLOAD) throw new SecretError(`${name}: encrypted value is malformed (payload too short)`);
  const plain = open(payload, key);
  if (plain === null) {
    throw new SecretError(
      `${name}: encrypted value cannot be decrypted with the configured key ` +
        "(encrypted on another host or with another encryption_key, or altered)",
    );
  }
  return plain;
}

/** Tries each key on a legacy value; null when it is not legacy ciphertext any of them opens. */
export function decryptLegacy(value: string, keys: Buffer[]): string | null {
  const payload = Buffer.from(value, "base64");
  if (payload.length < MIN_PAYLOAD || payload.toString("base64") !== value) return null;
  for (const key of keys) {
    const plain = open(payload, key);
    if (plain !== null) return plain;
  }
  return null;
}

/**
 * Resolves a stored credential: `enc:v1:` values must decrypt with the active key; anything else is tried as legacy
 * ciphertext with the active then the legacy keys, and failing that taken as plaintext. `rewrite` is the value to
 * store in place of the original, set whenever it was not already `enc:v1:`.
 *
 * GCM authentication makes a plaintext password that happens to be valid base64 practically impossible to mistake
 * for legacy ciphertext. The converse is not detectable: a legacy value none of the keys opens is taken as the
 * password itself, and the vCenter login is what then fails.
 */
export function resolveSecret(
  value: string,
  keys: { active: Buffer; legacy: Buffer[] },
  name: string,
): { plain: string; rewrite: string | null } {
  const encrypted = value.startsWith(ENC_PREFIX);
  const plain = encrypted
    ? decryptSecret(value, keys.active, name)
    : (decryptLegacy(value, [keys.active, ...keys.legacy]) ?? value);
  if ([...plain].length < MIN_PLAIN_LENGTH) {
    throw new SecretError(`${name}: value must be longer than ${MIN_PLAIN_LENGTH - 1} characters`);
  }
  return { plain, rewrite: encrypted ? null : encryptSecret(plain, keys.active) };
}

function open(payload: Buffer, key: Buffer): string | null {
  const decipher = createDecipheriv("aes-256-gcm", key, payload.subarray(0, IV_LENGTH), {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAuthTag(payload.subarray(payload.length - TAG_LENGTH));
  try {
    return Buffer.concat([
      decipher.update(payload.subarray(IV_LENGTH, payload.length - TAG_LENGTH)),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    return null;
  }
}

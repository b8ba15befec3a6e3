import { createCipheriv, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptSecret, deriveKey, SecretError } from "../../src/auth/secret-box.js";
import { SettingsError } from "../../src/config/load.js";
import { resolveVcenterPassword, rewriteSettingInFile } from "../../src/config/secret-settings.js";

const PATH = ["settings", "vcenter_password"];
const ENCRYPTION_KEY = "0d9c1b2f-settings-test-key";

// Formatting that re-serialising the document would not reproduce: aligned comments, double blank lines,
// unindented sequences, flow collections and a line longer than 80 columns.
function settingsYaml(password: string): string {
  return `# Fleetledger settings
server:
  port:   8080   # aligned comment


settings:
  vcenter_addresses: [ "https://vc1/sdk",  "https://vc2/sdk" ]
  vcenter_username: "svc-vctp@vsphere.local"
  vcenter_password: ${password}   # rotated by ops
  description: this is a long string value that goes well past the default eighty column line width
tags:
- a
- b
`;
}

function settingsFile(password: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "fl-secret-")), "fleetledger.yml");
  writeFileSync(file, settingsYaml(password));
  return file;
}

function storedPassword(file: string): string {
  return /vcenter_password: (\S*)/.exec(readFileSync(file, "utf8"))?.[1] ?? "";
}

/** What start-up does once the settings loader has read the password from the file. */
function start(file: string, encryptionKey = ENCRYPTION_KEY, legacyKeys?: string[]) {
  return resolveVcenterPassword({ file, path: PATH, value: storedPassword(file), encryptionKey, legacyKeys });
}

function legacyEncrypt(plain: string, keyMaterial: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", deriveKey(keyMaterial), nonce);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
}

describe("vcenter_password at start-up", () => {
  it("decrypts a legacy value with a fallback key and stores it as enc:v1, leaving every other byte alone", () => {
    const legacy = legacyEncrypt("VMware1!", "old-key");
    const file = settingsFile(legacy);
    expect(start(file, ENCRYPTION_KEY, ["old-key"])).toEqual({ password: "VMware1!", rewritten: true });
    const stored = storedPassword(file);
    expect(stored).toMatch(/^enc:v1:/);
    expect(decryptSecret(stored, deriveKey(ENCRYPTION_KEY))).toBe("VMware1!");
    expect(readFileSync(file, "utf8")).toBe(settingsYaml(stored));
  });

  it("accepts plaintext and stores it encrypted", () => {
    const file = settingsFile("s3cret");
    expect(start(file)).toEqual({ password: "s3cret", rewritten: true });
    expect(decryptSecret(storedPassword(file), deriveKey(ENCRYPTION_KEY))).toBe("s3cret");
    expect(readFileSync(file, "utf8")).toBe(settingsYaml(storedPassword(file)));
  });

  it.each(["ab", "a"])("rejects the plaintext %j as too short and leaves the file alone", (password) => {
    const file = settingsFile(password);
    expect(() => start(file)).toThrow(SecretError);
    expect(() => start(file)).toThrow("settings.vcenter_password: value must be longer than 2 characters");
    expect(readFileSync(file, "utf8")).toBe(settingsYaml(password));
  });

  it("accepts a plaintext of exactly 3 characters", () => {
    const file = settingsFile("abc");
    expect(start(file)).toEqual({ password: "abc", rewritten: true });
  });

  it("reads the rewritten value on the next start without rewriting it again", () => {
    const file = settingsFile("s3cret");
    start(file);
    const after = readFileSync(file, "utf8");
    expect(start(file)).toEqual({ password: "s3cret", rewritten: false });
    expect(readFileSync(file, "utf8")).toBe(after);
  });

  it("keeps using the host key across starts when encryption_key is unset", () => {
    const file = settingsFile("s3cret");
    expect(start(file, "")).toEqual({ password: "s3cret", rewritten: true });
    expect(start(file, "")).toEqual({ password: "s3cret", rewritten: false });
  });

  it("cannot read the stored value back under a different encryption_key", () => {
    const file = settingsFile("s3cret");
    start(file);
    expect(() => start(file, "a-different-key")).toThrow(/cannot be decrypted with the configured key/);
  });

  it("does not rewrite the file when the value came from the environment", () => {
    const withoutKey = join(mkdtempSync(join(tmpdir(), "fl-secret-")), "fleetledger.yml");
    writeFileSync(withoutKey, "settings:\n  vcenter_username: svc\n");
    const overridden = settingsFile("file-password");
    for (const file of [withoutKey, overridden]) {
      const before = readFileSync(file, "utf8");
      expect(
        resolveVcenterPassword({ file, path: PATH, value: "env-password", encryptionKey: ENCRYPTION_KEY }),
      ).toEqual({ password: "env-password", rewritten: false });
      expect(readFileSync(file, "utf8")).toBe(before);
    }
    expect(
      resolveVcenterPassword({ file: null, path: PATH, value: "env-password", encryptionKey: ENCRYPTION_KEY }),
    ).toEqual({ password: "env-password", rewritten: false });
  });
});

describe("rewriteSettingInFile", () => {
  it("keeps the file mode and leaves no temporary file behind", () => {
    const file = settingsFile("s3cret");
    chmodSync(file, 0o640);
    rewriteSettingInFile(file, PATH, "enc:v1:abc");
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(file, ".."))).toEqual(["fleetledger.yml"]);
    expect(storedPassword(file)).toBe("enc:v1:abc");
  });

  it("quotes values that would otherwise read back as something else", () => {
    const file = settingsFile('"s3cret"');
    rewriteSettingInFile(file, PATH, "enc:v1:abc");
    expect(readFileSync(file, "utf8")).toBe(settingsYaml('"enc:v1:abc"'));
    writeFileSync(file, "settings:\n  vcenter_password: |\n    s3cret\n  vcenter_username: svc\n");
    rewriteSettingInFile(file, PATH, "true");
    expect(readFileSync(file, "utf8")).toBe('settings:\n  vcenter_password: "true"\n  vcenter_username: svc\n');
  });

  it("refuses to add a key the file does not have", () => {
    const file = settingsFile("s3cret");
    expect(() => rewriteSettingInFile(file, ["settings", "encryption_key"], "x")).toThrow(SettingsError);
  });
});

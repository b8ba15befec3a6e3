import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import YAML, { isScalar, type Scalar } from "yaml";
import { deriveKey, hostKeyMaterial, resolveSecret } from "../auth/secret-box.js";
import { SettingsError } from "./load.js";

const PLAIN_SAFE = /^[A-Za-z0-9][\w.:/+=@-]*$/;

/**
 * Replaces one string scalar of a YAML file, leaving every other byte as it was: only the value's own source range
 * is spliced, because re-serialising the document (`String(doc)`) re-indents sequences, collapses blank lines,
 * re-spaces comments and flow collections, and folds long strings. The file is replaced atomically (sibling temp
 * file, fsync, rename) with its mode kept, so a crash leaves the old or the new file, never a truncated one.
 */
export function rewriteSettingInFile(file: string, path: string[], value: string): void {
  const target = realpathSync(file);
  const source = readFileSync(target, "utf8");
  const node = scalarAt(parse(target, source), path);
  if (!node?.range) throw new SettingsError(`settings file ${target} has no scalar ${path.join(".")} to rewrite`);
  const [start, end] = node.range;
  const original = source.slice(start, end);
  // Block scalars (`|`, `>`) own the line break ending them; keep it so the next key stays on its own line.
  const lineEnd = /\s*$/.exec(original)?.[0] ?? "";
  const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE";
  const plainSafe = !quoted && PLAIN_SAFE.test(value) && YAML.parse(value) === value;
  const updated = source.slice(0, start) + (plainSafe ? value : JSON.stringify(value)) + lineEnd + source.slice(end);
  if (scalarAt(parse(target, updated), path)?.value !== value) {
    throw new SettingsError(
      `settings file ${target}: ${path.join(".")} cannot be rewritten without changing its meaning`,
    );
  }
  writeAtomically(target, updated);
}

/**
 * Start-up resolution of `vcenter_password` (see `resolveSecret` for the order). The key is `encryptionKey` when
 * non-empty, else the host key (`hostKeyMaterial`); `legacyKeys` are earlier key materials still accepted for
 * unprefixed legacy values. The file is rewritten only when the value was read from it: a value supplied by an
 * environment variable (the file lacks the key or holds something else) is returned decrypted and left alone, as
 * there is nothing on disk to replace and overwriting the file's own value would change what it configures.
 * A file that cannot be written (read-only mount) fails start-up rather than keep a plaintext password at rest;
 * such deployments pass the password through the environment or store the `enc:v1:` value.
 */
export function resolveVcenterPassword(opts: {
  file: string | null;
  path: string[];
  value: string;
  encryptionKey: string;
  legacyKeys?: string[];
}): { password: string; rewritten: boolean } {
  const keys = {
    active: deriveKey(opts.encryptionKey !== "" ? opts.encryptionKey : hostKeyMaterial()),
    legacy: (opts.legacyKeys ?? []).map(deriveKey),
  };
  const { plain, rewrite } = resolveSecret(opts.value, keys, opts.path.join("."));
  if (rewrite === null || opts.file === null) return { password: plain, rewritten: false };
  const stored = scalarAt(parse(opts.file, readFileSync(opts.file, "utf8")), opts.path)?.value;
  if (stored !== opts.value) return { password: plain, rewritten: false };
  try {
    rewriteSettingInFile(opts.file, opts.path, rewrite);
  } catch (err) {
    if (err instanceof SettingsError) throw err;
    throw new SettingsError(
      `cannot store ${opts.path.join(".")} encrypted in ${opts.file}: ${(err as Error).message} ` +
        "(make the file writable, or provide the password through the environment)",
    );
  }
  return { password: plain, rewritten: true };
}

function parse(file: string, source: string): YAML.Document {
  const doc = YAML.parseDocument(source);
  if (doc.errors.length > 0)
    throw new SettingsError(`settings file ${file} is not valid YAML: ${doc.errors[0]?.message}`);
  return doc;
}

function scalarAt(doc: YAML.Document, path: string[]): Scalar | undefined {
  const node = doc.getIn(path, true);
  return isScalar(node) ? node : undefined;
}

function writeAtomically(file: string, content: string): void {
  const { mode, uid, gid } = statSync(file);
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", 0o600);
  try {
    try {
      // The umask applied at creation must not widen or narrow the settings file's permissions.
      fchmodSync(fd, mode & 0o7777);
      // Root rewriting a service account's file must not leave it unreadable to that account.
      if (process.getuid?.() === 0) fchownSync(fd, uid, gid);
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    unlinkSync(temp);
    throw err;
  }
}

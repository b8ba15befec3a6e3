import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Creates the state dir readable by its owner only: it holds the agent's secret. */
export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Write-then-rename, so a crash leaves the old file or the new one, never half of one. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const temporary = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(temporary, data, { mode });
  renameSync(temporary, path);
}

/** A JSON object from the state dir; undefined when the file is absent. A corrupt file is an error naming it. */
export function readJsonFile<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); remove it to start over`);
  }
}

/** Small counters and positions kept across restarts in one JSON file each. */
export class JsonStore<T extends object> {
  private value: T;
  private readonly path: string;

  constructor(path: string, initial: T) {
    this.path = path;
    this.value = { ...initial, ...(readJsonFile<Partial<T>>(path) ?? {}) };
  }

  get(): Readonly<T> {
    return this.value;
  }

  set(value: T): void {
    this.value = value;
    writeFileAtomic(this.path, `${JSON.stringify(value)}\n`);
  }
}

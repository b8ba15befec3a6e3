import { execFile, spawn } from "node:child_process";

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  override name = "CommandError";
  /** The program could not be started at all (ENOENT, EACCES): the exporter should disable itself. */
  readonly missing: boolean;

  constructor(message: string, missing: boolean) {
    super(message);
    this.missing = missing;
  }
}

/**
 * Runs a program with an argument array — never through a shell, so no configured value is ever interpreted — and
 * a timeout after which it is killed.
 */
export function run(
  command: string,
  args: string[],
  timeoutMs: number,
  maxBuffer = 16 * 1024 * 1024,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, maxBuffer, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        const line = `${command} ${args.join(" ")}`;
        if (code === "ENOENT" || code === "EACCES") {
          reject(new CommandError(`${command} not found or not executable`, true));
        } else if (error.killed) {
          reject(new CommandError(`${line} did not finish within ${timeoutMs} ms`, false));
        } else {
          const detail = (stderr || stdout).trim().split("\n")[0] || error.message;
          reject(new CommandError(`${line} failed (exit ${error.code ?? "?"}): ${detail}`, false));
        }
      },
    );
  });
}

/**
 * Runs a program and keeps the first `maxLines` lines of its output, then stops it: `journalctl --after-cursor`
 * after a week offline can print millions of entries, and the agent takes them a batch at a time.
 */
export function runFirstLines(command: string, args: string[], maxLines: number, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    const lines: string[] = [];
    let partial = "";
    let stderr = "";
    let enough = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new CommandError(`${command} ${args.join(" ")} did not finish within ${timeoutMs} ms`, false));
    }, timeoutMs);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (enough) return;
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        if (lines.length >= maxLines) {
          enough = true;
          child.kill("SIGTERM");
          break;
        }
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const missing = err.code === "ENOENT" || err.code === "EACCES";
      reject(new CommandError(missing ? `${command} not found or not executable` : err.message, missing));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (enough || code === 0) {
        if (!enough && partial) lines.push(partial);
        resolve(lines);
      } else {
        const detail = stderr.trim().split("\n")[0] || `exit ${code}`;
        reject(new CommandError(`${command} ${args.join(" ")} failed: ${detail}`, false));
      }
    });
  });
}

import { spawn } from "node:child_process";

/** One statement timed by the database's shell: wall seconds, and CPU seconds of whoever executed it if known. */
export interface ShellTiming {
  seconds: number;
  cpuSeconds: number | null;
}

function runScript(command: string, args: string[], script: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], ...(env ? { env } : {}) });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("error", (e) =>
      reject(
        (e as NodeJS.ErrnoException).code === "ENOENT"
          ? new Error(
              `${command} is not installed (Debian package ${command === "psql" ? "postgresql-client" : "sqlite3"})`,
            )
          : e,
      ),
    );
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}:\n${err || out}`)),
    );
    child.stdin.end(script);
  });
}

export async function shellVersion(command: "sqlite3" | "psql"): Promise<string> {
  return (await runScript(command, ["--version"], "")).trim();
}

/**
 * Runs `statement` with the shell's own timer (`.timer on`) in a `sqlite3` process with the pragmas
 * src/db/connect.ts sets plus better-sqlite3's default page cache, so both sides run with the same settings.
 * The timer's user + sys is the statement's CPU time.
 */
export async function sqliteShell(file: string, statement: string): Promise<ShellTiming> {
  const out = await runScript(
    "sqlite3",
    ["-batch", "-bail", file],
    `.timeout 5000
pragma synchronous = normal;
pragma foreign_keys = on;
pragma cache_size = -16000;
.timer on
${statement};
`,
  );
  const match = /Run Time: real ([\d.]+) user ([\d.]+) sys ([\d.]+)/.exec(out);
  if (!match) throw new Error(`sqlite3 printed no timing:\n${out}`);
  return { seconds: Number(match[1]), cpuSeconds: Number(match[2]) + Number(match[3]) };
}

// The backend's /proc/<pid>/stat read through psql's shell escape before and after the statement; "none" when the
// server is not on this machine.
const CPU_PROBE = "\\echo @cpu\n\\! cat /proc/$FL_BACKEND_PID/stat 2>/dev/null || echo none";

/** /proc/<pid>/stat's utime + stime in seconds (fields 14 and 15, counted after the parenthesised name). */
export function statCpuSeconds(stat: string): number | null {
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks / 100 : null;
}

/** The same for PostgreSQL: `psql` with `\timing`, in the given schema, CPU read from the backend process. */
export async function psqlShell(url: string, schema: string, statement: string): Promise<ShellTiming> {
  const out = await runScript(
    "psql",
    ["-X", "-q", "-v", "ON_ERROR_STOP=1", url],
    `select pg_backend_pid() as pid \\gset
\\setenv FL_BACKEND_PID :pid
${CPU_PROBE}
\\timing on
${statement};
\\timing off
${CPU_PROBE}
`,
    { ...process.env, PGOPTIONS: `-c search_path=${schema}` },
  );
  const time = /^Time: ([\d.]+) ms/m.exec(out);
  if (!time) throw new Error(`psql printed no timing:\n${out}`);
  const probes = [...out.matchAll(/^@cpu\n(.*)$/gm)].map((m) => statCpuSeconds(m[1] ?? ""));
  const [before, after] = probes;
  return {
    seconds: Number(time[1]) / 1000,
    cpuSeconds: before != null && after != null ? after - before : null,
  };
}

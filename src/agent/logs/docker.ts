import { containerIdentity, DockerApiError, dockerClient, probeDocker } from "../docker-client.js";
import { demultiplex, looksMultiplexed } from "../parsers/docker-log-frames.js";
import { guessSeverity } from "../parsers/severity.js";
import type { LogRow, LogSource, ProbeResult } from "../types.js";

/** How far back a container the agent has not read before is read, as `docker logs --since 15m` does. */
const FIRST_READ_SECONDS = 15 * 60;
const MAX_SOURCE = 64;
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z /;

/** Nanoseconds since the epoch of Docker's RFC 3339 log time, kept exact as a bigint. */
function nanos(date: string, fraction: string | undefined): bigint {
  return BigInt(Date.parse(`${date}Z`)) * 1_000_000n + BigInt((fraction ?? "").padEnd(9, "0"));
}

/** `since` takes Unix seconds with up to nine fraction digits. */
function sinceParameter(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, "0")}`;
}

/**
 * stdout and stderr of running containers through the Docker Engine API, one log source `docker:<container>` each.
 * The cursor maps container id → time (ns) of the last line taken; `since` is inclusive, so lines at or before it
 * are skipped. At most `limit` of the newest lines per container and cycle are taken (`tail`).
 */
export function dockerLogSource(socketPath: string, timeoutMs: number, now: () => number = Date.now): LogSource {
  const docker = dockerClient(socketPath, timeoutMs);
  let probed = false;
  return {
    name: "docker",
    async probe(): Promise<ProbeResult> {
      const result = await probeDocker(docker, socketPath);
      probed = result.ok;
      return result;
    },
    async read(cursorText, limit) {
      if (!probed) throw new Error("docker log source used before its probe");
      const previous: Record<string, string> = cursorText ? (JSON.parse(cursorText) as Record<string, string>) : {};
      const next: Record<string, string> = {};
      const logs: LogRow[] = [];
      for (const info of await docker.listContainers()) {
        const after = previous[info.Id] !== undefined ? BigInt(previous[info.Id] as string) : undefined;
        const since = after ?? BigInt(now() - FIRST_READ_SECONDS * 1000) * 1_000_000n;
        let body: Buffer;
        try {
          body = await docker.logs(info.Id, sinceParameter(since), limit);
        } catch (err) {
          if (err instanceof DockerApiError && err.statusCode === 404) continue; // gone since the list
          throw err;
        }
        const lines = looksMultiplexed(body)
          ? demultiplex(body).flatMap((frame) => frame.text.split("\n"))
          : body.toString("utf8").split("\n");
        const source = `docker:${containerIdentity(info).container}`.slice(0, MAX_SOURCE);
        let last = after;
        for (const line of lines) {
          const m = TIMESTAMP.exec(line);
          if (!m) continue;
          const at = nanos(m[1] as string, m[2]);
          if (after !== undefined && at <= after) continue;
          const content = line.slice(m[0].length).replace(/\r$/, "");
          last = last === undefined || at > last ? at : last;
          if (!content.trim()) continue;
          logs.push({
            log_source: source,
            log_timestamp: Number(at / 1_000_000n) / 1000,
            content: content.slice(0, 65_536),
            severity: guessSeverity(content),
          });
        }
        if (last !== undefined) next[info.Id] = last.toString();
        else if (after !== undefined) next[info.Id] = after.toString();
      }
      return { logs, cursor: JSON.stringify(next) };
    },
  };
}

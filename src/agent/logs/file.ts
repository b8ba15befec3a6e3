import { open, stat } from "node:fs/promises";
import { guessSeverity } from "../parsers/severity.js";
import { syslogTimestamp } from "../parsers/syslog-line.js";
import type { LogRow, LogSource, ProbeResult } from "../types.js";

/** The server refuses longer content; a longer line is cut rather than lost. */
const MAX_CONTENT = 65_536;
/** Most bytes read per cycle and file. */
const CHUNK = 1024 * 1024;
/** A new file (no cursor yet) starts this far before its end, so the first batch has recent context, not history. */
const FIRST_READ_BACKLOG = 64 * 1024;

interface FileCursor {
  inode: number;
  offset: number;
}

function parseCursor(cursor: string | undefined): FileCursor | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(cursor) as Partial<FileCursor>;
    return typeof value.inode === "number" && typeof value.offset === "number" ? (value as FileCursor) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Follows a text log file by byte offset and inode. A new inode (rotation) or a file shorter than the offset
 * (truncation) restarts at 0; a last line without its newline is left for the next read, when it is complete.
 */
export function fileSource(sourceName: string, path: string, now: () => Date = () => new Date()): LogSource {
  return {
    name: sourceName,
    async probe(): Promise<ProbeResult> {
      try {
        const handle = await open(path, "r");
        await handle.close();
        return { ok: true };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return {
          ok: false,
          reason: code === "ENOENT" ? `${path} does not exist` : `cannot read ${path} (${code ?? err})`,
        };
      }
    },
    async read(cursorText, limit) {
      let info: Awaited<ReturnType<typeof stat>>;
      try {
        info = await stat(path);
      } catch (err) {
        // Between a rotation's rename and the new file's creation the path is briefly absent.
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return { logs: [], cursor: cursorText };
        throw err;
      }
      const previous = parseCursor(cursorText);
      let offset: number;
      let skipPartialFirst = false;
      if (!previous) {
        offset = Math.max(0, info.size - FIRST_READ_BACKLOG);
        skipPartialFirst = offset > 0;
      } else if (previous.inode !== info.ino || info.size < previous.offset) {
        offset = 0;
      } else {
        offset = previous.offset;
      }
      const length = Math.min(CHUNK, info.size - offset);
      const buffer = Buffer.alloc(Math.max(0, length));
      if (length > 0) {
        const handle = await open(path, "r");
        try {
          await handle.read(buffer, 0, length, offset);
        } finally {
          await handle.close();
        }
      }
      const logs: LogRow[] = [];
      const at = now();
      let position = 0;
      if (skipPartialFirst) {
        const newline = buffer.indexOf(10);
        position = newline < 0 ? buffer.length : newline + 1;
      }
      while (position < buffer.length && logs.length < limit) {
        let newline = buffer.indexOf(10, position);
        if (newline < 0) {
          // No newline in a whole chunk: a runaway line is sent in pieces instead of blocking the file forever.
          if (position === 0 && buffer.length === CHUNK) newline = buffer.length - 1;
          else break;
        }
        const line = buffer.toString("utf8", position, newline).replace(/\r$/, "");
        position = newline + 1;
        if (!line.trim()) continue;
        logs.push({
          log_source: sourceName,
          log_timestamp: syslogTimestamp(line, at) ?? at.getTime() / 1000,
          content: line.length > MAX_CONTENT ? line.slice(0, MAX_CONTENT) : line,
          severity: guessSeverity(line),
        });
      }
      return { logs, cursor: JSON.stringify({ inode: info.ino, offset: offset + position }) };
    },
  };
}

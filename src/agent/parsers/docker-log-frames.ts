export interface LogFrame {
  stream: "stdout" | "stderr";
  text: string;
}

/**
 * Splits a Docker Engine log body that uses stream multiplexing (containers without a TTY): each frame is an 8-byte
 * header — stream type (1 stdout, 2 stderr), three zero bytes, big-endian uint32 payload length — then the payload.
 * A truncated last frame is ignored; an unknown stream type is read as stdout so a daemon quirk loses no line.
 */
export function demultiplex(body: Buffer): LogFrame[] {
  const frames: LogFrame[] = [];
  let offset = 0;
  while (offset + 8 <= body.length) {
    const type = body[offset];
    const length = body.readUInt32BE(offset + 4);
    const end = offset + 8 + length;
    if (end > body.length) break;
    frames.push({ stream: type === 2 ? "stderr" : "stdout", text: body.toString("utf8", offset + 8, end) });
    offset = end;
  }
  return frames;
}

/**
 * Whether a log body is multiplexed, judged by its bytes: asking the daemon for the container's TTY setting would
 * cost one more request per container; with `timestamps=1` a raw (TTY) body starts with the digit of a year, never
 * with a stream-type byte followed by three zero bytes.
 */
export function looksMultiplexed(body: Buffer): boolean {
  return body.length >= 8 && body[0] !== undefined && body[0] <= 2 && body[1] === 0 && body[2] === 0 && body[3] === 0;
}

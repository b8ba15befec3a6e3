import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The captured govmomi <-> vcsim exchanges (see their README), checked in beside the tests. */
export const CAPTURES = fileURLToPath(new URL("./fixtures/vsphere-soap", import.meta.url));

export interface RecordedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads one `NAME.response.http` capture: a status line, headers, a blank line, the raw body. */
export function readCapturedResponse(dir: string, name: string): RecordedResponse {
  const raw = readFileSync(join(CAPTURES, dir, `${name}.response.http`), "utf8");
  const split = raw.indexOf("\n\n");
  const [statusLine = "", ...headerLines] = raw.slice(0, split).split("\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    // Length and date describe the original transfer, not this one.
    if (name !== "content-length" && name !== "date") headers[name] = line.slice(colon + 1).trim();
  }
  return { status: Number.parseInt(statusLine, 10), headers, body: raw.slice(split + 2) };
}

export interface ReceivedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Replay {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * Serves captured responses in the given order, one per request, whatever is asked; it records what it received,
 * so a test checks the client's requests itself. A request beyond the script gets HTTP 500 and is recorded.
 */
export async function replay(dir: string, script: string[]): Promise<Replay> {
  const responses = script.map((name) => readCapturedResponse(dir, name));
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const method = /<(?:[\w.-]+:)?Body>\s*<(?:[\w.-]+:)?([\w.-]+)/.exec(body)?.[1] ?? "";
      received.push({ method, headers: req.headers, body });
      const next = responses.shift();
      if (!next) {
        res.writeHead(500, { "content-type": "text/plain" }).end("replay script exhausted");
        return;
      }
      res.writeHead(next.status, next.headers).end(next.body);
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sdk`,
    received,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

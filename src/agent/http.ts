import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpClientOptions {
  skipVerify?: boolean;
  caFile?: string;
  timeoutMs?: number;
}

/**
 * A minimal JSON-over-HTTP client on node:http. The agent makes one request every few seconds at most, so it keeps
 * a keep-alive agent and nothing else (no fetch/undici machinery in a process that should stay small).
 */
export class HttpClient {
  private readonly agent: http.Agent | https.Agent;
  private readonly timeoutMs: number;
  readonly baseUrl: string;

  constructor(baseUrl: string, options: HttpClientOptions = {}) {
    this.baseUrl = baseUrl;
    const url = new URL(baseUrl);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.agent =
      url.protocol === "https:"
        ? new https.Agent({
            keepAlive: true,
            maxSockets: 2,
            rejectUnauthorized: !options.skipVerify,
            ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
          })
        : new http.Agent({ keepAlive: true, maxSockets: 2 });
  }

  request(method: string, path: string, body: unknown, authorization: string): Promise<HttpResponse> {
    const url = new URL(path, this.baseUrl);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            authorization,
            accept: "application/json",
            ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          res.on("error", reject);
        },
      );
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new Error(`no answer from ${url.origin} within ${this.timeoutMs} ms`)),
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Seconds of a Retry-After header (delta-seconds or an HTTP date), in milliseconds. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** The server's `{error, message}` body, or the raw text when it is not JSON. */
export function errorText(response: HttpResponse): string {
  try {
    const parsed = JSON.parse(response.body) as { message?: unknown; error?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
    if (typeof parsed.error === "string") return parsed.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return response.body.slice(0, 200) || `HTTP ${response.status}`;
}

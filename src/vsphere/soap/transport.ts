import { Pool } from "undici";
import {
  SoapFault,
  VsphereAuthError,
  VsphereConnectionError,
  VsphereError,
  VsphereHttpError,
  VsphereProtocolError,
  VsphereTimeoutError,
  VsphereTlsError,
} from "./errors.js";
import { child, childText, parseXml, type XmlElement } from "./parse.js";
import { decodeDataObject } from "./values.js";
import { SOAP_ENV_NS } from "./xml.js";

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const SESSION_COOKIE = "vmware_soap_session";

export interface TransportOptions {
  /** The SDK endpoint, e.g. `https://vcenter.example/sdk`. */
  url: string;
  /** Skip certificate verification (`vcenter_insecure`). */
  insecure?: boolean;
  /** Limit for one request, from sending it to the last byte of the answer. */
  timeoutMs?: number;
  /** Aborts every request of this transport, e.g. an overall run timeout. */
  signal?: AbortSignal;
  /** vim25 release the requests are written against; sent as `SOAPAction: urn:vim25/<version>`. */
  apiVersion?: string;
}

export interface InvokeOptions {
  /** Replaces the transport-wide signal, so clean-up calls (Logout) still go out after the run was aborted. */
  signal?: AbortSignal;
}

const SESSION_COOKIE_PATTERN = new RegExp(`(?:^|[;,]\\s*)${SESSION_COOKIE}=([^;]*)`);
const COMPLETE_ENVELOPE = /<\/(?:[A-Za-z_][\w.-]*:)?Envelope>\s*$/;
const TLS_CODE = /CERT|SSL|TLS|HOSTNAME_MISMATCH|^EPROTO$/;
// OpenSSL verification failures without a Node name for their code (a key too weak, say) arrive as UNSPECIFIED.
const TLS_MESSAGE = /certificate|\bssl\b|\btls\b|handshake/i;
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const AUTH_FAULTS = new Set(["InvalidLogin", "NotAuthenticated"]);

/**
 * One keep-alive connection pool to one SDK endpoint, carrying the session cookie. It turns every way an
 * exchange can fail into a typed `VsphereError` and hands back the method's response element on success.
 */
export class SoapTransport {
  readonly endpoint: URL;
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly soapAction: string;
  private sessionCookie: string | undefined;
  private requests = 0;

  constructor(options: TransportOptions) {
    this.endpoint = new URL(options.url);
    if (this.endpoint.protocol !== "https:" && this.endpoint.protocol !== "http:") {
      throw new TypeError(`vCenter URL must be http(s): ${options.url}`);
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.signal = options.signal;
    this.soapAction = `urn:vim25/${options.apiVersion ?? "7.0"}`;
    this.pool = new Pool(this.endpoint.origin, {
      connections: 4,
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: { rejectUnauthorized: !options.insecure, timeout: this.timeoutMs },
    });
  }

  /** HTTP requests sent so far, failed ones included. */
  get roundTrips(): number {
    return this.requests;
  }

  get hasSession(): boolean {
    return this.sessionCookie !== undefined;
  }

  async invoke(method: string, envelope: string, options: InvokeOptions = {}): Promise<XmlElement> {
    this.requests++;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    const outer = options.signal ?? this.signal;
    const signal = outer ? AbortSignal.any([deadline.signal, outer]) : deadline.signal;

    let status: number;
    let text: string;
    try {
      const headers: Record<string, string> = {
        "content-type": 'text/xml; charset="utf-8"',
        soapaction: this.soapAction,
      };
      if (this.sessionCookie !== undefined) headers.cookie = `${SESSION_COOKIE}=${this.sessionCookie}`;
      const response = await this.pool.request({
        method: "POST",
        path: this.endpoint.pathname + this.endpoint.search,
        headers,
        body: envelope,
        signal,
      });
      status = response.statusCode;
      this.rememberSession(response.headers["set-cookie"]);
      text = await response.body.text();
    } catch (err) {
      if (deadline.signal.aborted) {
        throw new VsphereTimeoutError(
          `${method}: no complete answer from ${this.endpoint.host} within ${this.timeoutMs} ms`,
          this.timeoutMs,
          { cause: err },
        );
      }
      if (outer?.aborted) throw abortReason(method, outer);
      throw this.networkError(method, err);
    } finally {
      clearTimeout(timer);
    }
    return this.interpret(method, status, text);
  }

  /** Forgets the session (after Logout, or to log in again). */
  clearSession(): void {
    this.sessionCookie = undefined;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private rememberSession(header: string | string[] | undefined): void {
    for (const line of header === undefined ? [] : Array.isArray(header) ? header : [header]) {
      const match = SESSION_COOKIE_PATTERN.exec(line);
      if (match?.[1] !== undefined) this.sessionCookie = match[1];
    }
  }

  private interpret(method: string, status: number, text: string): XmlElement {
    const ok = status >= 200 && status < 300;
    let root: XmlElement | undefined;
    let parseError: unknown;
    try {
      // Checked before parsing: a body cut short must never pass as a shorter valid answer, whatever the parser does.
      root = COMPLETE_ENVELOPE.test(text.slice(-256)) ? parseXml(text) : undefined;
    } catch (err) {
      parseError = err;
    }
    const body = root && root.name === "Envelope" && root.namespace === SOAP_ENV_NS ? child(root, "Body") : undefined;
    const answer = body?.children[0];

    if (answer?.name === "Fault") throw fault(method, answer, status);
    if (answer && ok) return answer;
    if (body && ok) {
      throw new VsphereProtocolError(`${method}: the SOAP body from ${this.endpoint.host} is empty`);
    }
    if (!ok) {
      throw new VsphereHttpError(
        `${method}: ${this.endpoint.host} answered HTTP ${status}${body ? "" : ` with ${describe(text)}`}`,
        status,
        excerpt(text),
      );
    }
    throw new VsphereProtocolError(
      `${method}: ${this.endpoint.host} did not answer with a SOAP envelope but ${describe(text)}`,
      {
        cause: parseError,
      },
    );
  }

  private networkError(method: string, err: unknown): VsphereError {
    const code = errorCode(err);
    const reason = innermostMessage(err);
    const where = this.endpoint.host;
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      return new VsphereTimeoutError(`${method}: ${where} timed out (${code})`, this.timeoutMs, { cause: err });
    }
    if (
      (code !== undefined && TLS_CODE.test(code)) ||
      (this.endpoint.protocol === "https:" && TLS_MESSAGE.test(reason))
    ) {
      const hint =
        code === "ERR_SSL_WRONG_VERSION_NUMBER"
          ? "; the port does not speak TLS (plain HTTP?)"
          : "; trust its certificate or set vcenter_insecure";
      return new VsphereTlsError(`TLS handshake with ${where} failed: ${reason} (${code ?? "no code"})${hint}`, code, {
        cause: err,
      });
    }
    return new VsphereConnectionError(`cannot reach vCenter at ${where}: ${reason}${code ? ` (${code})` : ""}`, code, {
      cause: err,
    });
  }
}

function fault(method: string, element: XmlElement, status: number): SoapFault {
  const detail = child(element, "detail")?.children[0];
  const faultType = detail ? (detail.xsiType ?? detail.name.replace(/Fault$/, "")) : undefined;
  const result = new SoapFault(
    method,
    childText(element, "faultcode") ?? "",
    childText(element, "faultstring") ?? "",
    faultType,
    detail ? decodeDataObject(detail) : undefined,
    status,
  );
  return faultType !== undefined && AUTH_FAULTS.has(faultType) ? new VsphereAuthError(result) : result;
}

function abortReason(method: string, signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  if (reason instanceof VsphereError) return reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    return new VsphereTimeoutError(`${method}: the collection run exceeded its time limit`, 0, { cause: reason });
  }
  return reason;
}

// undici reports socket and TLS failures with the Node error code on the error or deeper in its cause chain;
// the innermost code is the most specific one.
function errorCode(err: unknown): string | undefined {
  let found: string | undefined;
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") found = code;
  }
  return found;
}

// OpenSSL errors carry a one-line `reason` ("wrong version number") besides a multi-line message with file paths.
function innermostMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e = err; e instanceof Error; e = e.cause) {
    const reason = (e as { reason?: unknown }).reason;
    if (typeof reason === "string" && reason !== "") message = reason;
    else if (e.message) message = e.message;
  }
  return message.trim();
}

function excerpt(text: string): string {
  return text.slice(0, 1000).replace(/\s+/g, " ").trim().slice(0, 200);
}

function describe(text: string): string {
  const shown = excerpt(text);
  return shown === "" ? "an empty body" : `"${shown}${text.length > 200 ? "…" : ""}"`;
}

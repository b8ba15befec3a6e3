import type { DataObject } from "./values.js";

export type VsphereErrorKind = "connection" | "tls" | "timeout" | "http" | "protocol" | "fault" | "auth" | "task";

/**
 * Every failure of a vCenter exchange surfaces as one of these, so callers (retries, the connect-failure metric,
 * the snapshot log) can tell an unreachable vCenter from a rejected password without parsing messages.
 */
export class VsphereError extends Error {
  constructor(
    readonly kind: VsphereErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** DNS failure, refused or reset connection, socket closed mid-answer. */
export class VsphereConnectionError extends VsphereError {
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super("connection", message, options);
  }
}

/** The TLS handshake failed: untrusted or mismatched certificate, or TLS spoken to a plain HTTP port. */
export class VsphereTlsError extends VsphereError {
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super("tls", message, options);
  }
}

export class VsphereTimeoutError extends VsphereError {
  constructor(
    message: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super("timeout", message, options);
  }
}

/** An HTTP error status whose body is not a SOAP fault (a proxy's 502 page, a 404 for a wrong SDK path). */
export class VsphereHttpError extends VsphereError {
  constructor(
    message: string,
    readonly status: number,
    readonly bodyExcerpt: string,
  ) {
    super("http", message);
  }
}

/** The peer answered, but not with a complete SOAP envelope of the expected shape. */
export class VsphereProtocolError extends VsphereError {
  constructor(message: string, options?: ErrorOptions) {
    super("protocol", message, options);
  }
}

/** A `soapenv:Fault`. `faultType` is the vim25 fault in the detail (`InvalidLogin`, `ManagedObjectNotFound`, ...). */
export class SoapFault extends VsphereError {
  constructor(
    readonly method: string,
    readonly faultCode: string,
    readonly faultString: string,
    readonly faultType: string | undefined,
    readonly detail: DataObject | undefined,
    readonly httpStatus: number,
    kind: VsphereErrorKind = "fault",
  ) {
    super(kind, `${method} failed: ${faultType ? `${faultType}: ` : ""}${faultString || faultCode}`);
  }
}

/** Login refused the credentials (vim25 `InvalidLogin`). */
export class VsphereAuthError extends SoapFault {
  constructor(fault: SoapFault) {
    super(fault.method, fault.faultCode, fault.faultString, fault.faultType, fault.detail, fault.httpStatus, "auth");
  }
}

/** A task finished in state `error`; `faultType` names the vim25 fault it carried. */
export class VsphereTaskError extends VsphereError {
  constructor(
    readonly task: string,
    readonly faultType: string | undefined,
    readonly localizedMessage: string | undefined,
  ) {
    super(
      "task",
      `task ${task} failed: ${faultType ?? "unknown fault"}${localizedMessage ? ` (${localizedMessage})` : ""}`,
    );
  }
}

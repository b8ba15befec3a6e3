import { VsphereProtocolError } from "./errors.js";
import { child, childText, type XmlElement } from "./parse.js";
import { type InvokeOptions, SoapTransport, type TransportOptions } from "./transport.js";
import { MoRef } from "./values.js";
import { envelope, field } from "./xml.js";

export type VimClientOptions = TransportOptions;

export interface AboutInfo {
  fullName: string;
  version: string;
  build: string;
  apiType: string;
  apiVersion: string;
  instanceUuid: string | undefined;
}

/** The part of ServiceContent the collector and the VM operations use. */
export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  about: AboutInfo;
}

export interface UserSession {
  key: string;
  userName: string;
  loginTime: string | undefined;
}

const SERVICE_INSTANCE = new MoRef("ServiceInstance", "ServiceInstance");
const LOGOUT_TIMEOUT_MS = 10_000;

/**
 * A vim25 endpoint after RetrieveServiceContent: sends method calls over one SoapTransport and keeps the
 * managed objects every session starts from.
 */
export class VimClient {
  private constructor(
    private readonly transport: SoapTransport,
    readonly serviceContent: ServiceContent,
  ) {}

  static async connect(options: VimClientOptions): Promise<VimClient> {
    const transport = new SoapTransport(options);
    try {
      const response = await transport.invoke(
        "RetrieveServiceContent",
        envelope("RetrieveServiceContent", SERVICE_INSTANCE, ""),
      );
      return new VimClient(transport, readServiceContent(response));
    } catch (err) {
      await transport.close();
      throw err;
    }
  }

  /** HTTP requests sent so far, RetrieveServiceContent and failed ones included. */
  get roundTrips(): number {
    return this.transport.roundTrips;
  }

  /** Calls `method` on `self` with already-serialised parameters and returns the `<methodResponse>` element. */
  invoke(method: string, self: MoRef, parameters: string, options?: InvokeOptions): Promise<XmlElement> {
    return this.transport.invoke(method, envelope(method, self, parameters), options);
  }

  /** Opens a session; a refused password throws `VsphereAuthError` (fault type `InvalidLogin`). */
  async login(userName: string, password: string, locale = "en_US"): Promise<UserSession> {
    const response = await this.invoke(
      "Login",
      this.serviceContent.sessionManager,
      field("userName", userName) + field("password", password) + field("locale", locale),
    );
    const session = child(response, "returnval");
    if (!session) throw new VsphereProtocolError("Login: the answer carries no UserSession");
    return {
      key: childText(session, "key") ?? "",
      userName: childText(session, "userName") ?? userName,
      loginTime: childText(session, "loginTime"),
    };
  }

  /**
   * Ends the session, frees its views on the server. It runs with its own short deadline instead of the run's
   * signal, so a run that timed out still logs out.
   */
  async logout(): Promise<void> {
    if (!this.transport.hasSession) return;
    try {
      await this.invoke("Logout", this.serviceContent.sessionManager, "", {
        signal: AbortSignal.timeout(LOGOUT_TIMEOUT_MS),
      });
    } finally {
      this.transport.clearSession();
    }
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

function readServiceContent(response: XmlElement): ServiceContent {
  const content = child(response, "returnval");
  const ref = (name: string): MoRef => {
    const element = content && child(content, name);
    if (!element) throw new VsphereProtocolError(`RetrieveServiceContent: the answer has no ${name}`);
    return new MoRef(element.attributes.type ?? "", element.text);
  };
  const about = content && child(content, "about");
  const text = (name: string) => (about ? (childText(about, name) ?? "") : "");
  return {
    rootFolder: ref("rootFolder"),
    propertyCollector: ref("propertyCollector"),
    viewManager: ref("viewManager"),
    sessionManager: ref("sessionManager"),
    about: {
      fullName: text("fullName"),
      version: text("version"),
      build: text("build"),
      apiType: text("apiType"),
      apiVersion: text("apiVersion"),
      instanceUuid: about ? childText(about, "instanceUuid") : undefined,
    },
  };
}

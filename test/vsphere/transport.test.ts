import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { collectInventory } from "../../src/vsphere/collect/inventory.js";
import {
  SoapFault,
  VsphereConnectionError,
  VsphereHttpError,
  VsphereProtocolError,
  VsphereTimeoutError,
} from "../../src/vsphere/soap/errors.js";
import { SoapTransport } from "../../src/vsphere/soap/transport.js";
import { readCapturedResponse } from "./replay.js";

// Misbehaving endpoints that no real vCenter or simulator produces on demand: each answers every request the
// same way, so the tests can check how the transport classifies the failure.
type Behaviour = (res: ServerResponse) => void;

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function endpoint(behaviour: Behaviour): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => behaviour(res));
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  close = () =>
    new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`;
}

const SERVICE_CONTENT = readCapturedResponse("paged-shim-maxObjects8", "RetrieveServiceContent");

async function invoke(url: string, timeoutMs = 2_000) {
  const transport = new SoapTransport({ url, timeoutMs });
  try {
    return await transport.invoke("RetrieveServiceContent", "<x/>");
  } finally {
    await transport.close();
  }
}

describe("SoapTransport failure classification", () => {
  it("times out a request that gets no answer", async () => {
    const url = await endpoint(() => undefined);
    const started = Date.now();
    const failure = await invoke(url, 300).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(VsphereTimeoutError);
    expect((failure as VsphereTimeoutError).timeoutMs).toBe(300);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("times out an answer whose body stalls", async () => {
    const url = await endpoint((res) => {
      res.writeHead(200, { "content-type": "text/xml" });
      res.write('<?xml version="1.0"?><soapenv:Envelope');
    });
    expect(await invoke(url, 300).catch((err: unknown) => err)).toBeInstanceOf(VsphereTimeoutError);
  });

  it("reports an HTTP 5xx page as VsphereHttpError with its status", async () => {
    const url = await endpoint((res) => res.writeHead(503, { "content-type": "text/html" }).end("<html>down</html>"));
    const failure = await invoke(url).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(VsphereHttpError);
    expect((failure as VsphereHttpError).status).toBe(503);
    expect((failure as Error).message).toContain("HTTP 503");
  });

  it("reports a 200 answer that is not XML as VsphereProtocolError", async () => {
    const url = await endpoint((res) => res.writeHead(200, { "content-type": "text/plain" }).end("hello"));
    const failure = await invoke(url).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(VsphereProtocolError);
    expect((failure as Error).message).toContain('"hello"');
  });

  it("refuses an envelope that was cut short instead of reading part of it", async () => {
    const body = SERVICE_CONTENT.body;
    const url = await endpoint((res) =>
      res.writeHead(200, SERVICE_CONTENT.headers).end(body.slice(0, body.length / 2)),
    );
    expect(await invoke(url).catch((err: unknown) => err)).toBeInstanceOf(VsphereProtocolError);
  });

  it("accepts the same envelope whole", async () => {
    const url = await endpoint((res) => res.writeHead(200, SERVICE_CONTENT.headers).end(SERVICE_CONTENT.body));
    const response = await invoke(url);
    expect(response.name).toBe("RetrieveServiceContentResponse");
  });

  it("reads a fault whatever prefixes the envelope binds", async () => {
    const fault =
      '<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" ' +
      'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><S:Body><S:Fault><faultcode>ServerFaultCode</faultcode>' +
      "<faultstring>The object has already been deleted or has not been completely created</faultstring>" +
      '<detail><ManagedObjectNotFoundFault xmlns="urn:vim25" i:type="ManagedObjectNotFound">' +
      '<obj type="VirtualMachine">vm-9</obj></ManagedObjectNotFoundFault></detail></S:Fault></S:Body></S:Envelope>';
    const url = await endpoint((res) => res.writeHead(500, { "content-type": "text/xml" }).end(fault));
    const failure = await invoke(url).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(SoapFault);
    expect((failure as SoapFault).faultType).toBe("ManagedObjectNotFound");
    expect((failure as SoapFault).detail?.obj).toMatchObject({ type: "VirtualMachine", value: "vm-9" });
  });

  it("stops a collection at its overall time limit", async () => {
    const url = await endpoint(() => undefined);
    const failure = await collectInventory({
      url,
      username: "u",
      password: "p",
      insecure: false,
      timeoutMs: 10_000,
      runTimeoutMs: 200,
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(VsphereTimeoutError);
    expect((failure as Error).message).toContain("200 ms");
  });

  it("reports a server that closes the connection as VsphereConnectionError", async () => {
    const url = await endpoint((res) => res.socket?.destroy());
    expect(await invoke(url).catch((err: unknown) => err)).toBeInstanceOf(VsphereConnectionError);
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { VimClient } from "../../src/vsphere/soap/client.js";
import { SoapFault } from "../../src/vsphere/soap/errors.js";
import {
  containerViewFilter,
  continueRetrievePropertiesEx,
  createContainerView,
  destroyView,
  retrieveAll,
  retrievePages,
} from "../../src/vsphere/soap/property-collector.js";
import { MoRef } from "../../src/vsphere/soap/values.js";
import { VM_PROPERTIES } from "../../src/vsphere/collect/sample.js";
import { readCapturedResponse, type Replay, replay } from "./replay.js";

// The paged captures come from a simulator whose PropertyCollector pages like vCenter (page size 8, 20 VMs).
// They keep the first and the last call of each method, so the replay chains the first page, the first
// continuation and the last continuation: three linked pages (token A, token B, no token) of 8 objects each.
const PAGED_SCRIPT = [
  "RetrieveServiceContent",
  "Login",
  "CreateContainerView",
  "RetrievePropertiesEx",
  "ContinueRetrievePropertiesEx",
  "ContinueRetrievePropertiesEx.last",
  "DestroyView",
  "Logout",
];

function tokenOf(dir: string, response: string): string | undefined {
  return /<token>([^<]*)<\/token>/.exec(readCapturedResponse(dir, response).body)?.[1];
}

function objectIds(dir: string, responses: string[]): string[] {
  return responses.flatMap((r) =>
    [...readCapturedResponse(dir, r).body.matchAll(/<obj type="[^"]*">([^<]*)<\/obj>/g)].map((m) => m[1] ?? ""),
  );
}

let peer: Replay | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

async function session(dir: string, script: string[]): Promise<{ client: VimClient; peer: Replay }> {
  peer = await replay(dir, script);
  const client = await VimClient.connect({ url: peer.url, insecure: false, timeoutMs: 5_000 });
  await client.login("user", "pass");
  return { client, peer };
}

describe("RetrievePropertiesEx paging (recorded exchanges)", () => {
  it("follows <token> with ContinueRetrievePropertiesEx until a page has none and keeps every object", async () => {
    const dir = "paged-shim-maxObjects8";
    const { client, peer } = await session(dir, PAGED_SCRIPT);
    const view = await createContainerView(client, client.serviceContent.rootFolder, ["VirtualMachine"], true);
    const pages: string[][] = [];
    for await (const page of retrievePages(
      client,
      [containerViewFilter(view, [{ type: "VirtualMachine", pathSet: VM_PROPERTIES }])],
      { maxObjects: 8 },
    )) {
      pages.push(page.map((o) => o.obj.value));
    }
    await destroyView(client, view);
    await client.logout();
    await client.close();

    const expected = objectIds(dir, [
      "RetrievePropertiesEx",
      "ContinueRetrievePropertiesEx",
      "ContinueRetrievePropertiesEx.last",
    ]);
    expect(pages.map((p) => p.length)).toEqual([8, 8, 8]);
    expect(pages.flat()).toEqual(expected);

    expect(peer.received.map((r) => r.method)).toEqual([
      "RetrieveServiceContent",
      "Login",
      "CreateContainerView",
      "RetrievePropertiesEx",
      "ContinueRetrievePropertiesEx",
      "ContinueRetrievePropertiesEx",
      "DestroyView",
      "Logout",
    ]);
    const [, , , first, second, third] = peer.received;
    expect(first?.body).toContain("<maxObjects>8</maxObjects>");
    expect(first?.body).toContain('<obj type="ContainerView">');
    expect(first?.body).toMatch(/<selectSet [^>]*:type="TraversalSpec"><type>ContainerView<\/type><path>view<\/path>/);
    // Each continuation carries the token of the page before it.
    expect(second?.body).toContain(`<token>${tokenOf(dir, "RetrievePropertiesEx")}</token>`);
    expect(third?.body).toContain(`<token>${tokenOf(dir, "ContinueRetrievePropertiesEx")}</token>`);
    expect(client.roundTrips).toBe(8);
  });

  it("pages by the server's default when the client sets no maxObjects", async () => {
    const dir = "paged-shim-default8-maxObjectsUnset";
    const { client, peer } = await session(dir, PAGED_SCRIPT);
    const view = await createContainerView(client, client.serviceContent.rootFolder, ["VirtualMachine"], true);
    const objects = await retrieveAll(client, [
      containerViewFilter(view, [{ type: "VirtualMachine", pathSet: ["name"] }]),
    ]);
    await client.close();

    expect(peer.received[3]?.body).toContain("<options></options>");
    expect(objects.map((o) => o.obj.value)).toEqual(
      objectIds(dir, ["RetrievePropertiesEx", "ContinueRetrievePropertiesEx", "ContinueRetrievePropertiesEx.last"]),
    );
  });

  it("sends the session cookie from Login and the vim25 SOAPAction on every later request", async () => {
    const dir = "paged-shim-maxObjects8";
    const { client, peer } = await session(dir, PAGED_SCRIPT);
    await createContainerView(client, client.serviceContent.rootFolder, ["VirtualMachine"], true);
    await client.close();

    const cookie = /vmware_soap_session=[^;]*/.exec(
      readCapturedResponse(dir, "Login").headers["set-cookie"] ?? "",
    )?.[0];
    expect(cookie).toBeDefined();
    expect(peer.received[0]?.headers.cookie).toBeUndefined();
    expect(peer.received[2]?.headers.cookie).toBe(cookie);
    for (const request of peer.received) expect(request.headers.soapaction).toBe("urn:vim25/7.0");
  });

  it("takes an answer without a token as the only page (the stock simulator ignores maxObjects)", async () => {
    const dir = "stock-0.24.2-RetrievePropertiesEx";
    const { client, peer } = await session(dir, [
      "RetrieveServiceContent",
      "Login",
      "CreateContainerView",
      "RetrievePropertiesEx",
    ]);
    const view = await createContainerView(client, client.serviceContent.rootFolder, ["VirtualMachine"], true);
    const objects = await retrieveAll(
      client,
      [containerViewFilter(view, [{ type: "VirtualMachine", pathSet: VM_PROPERTIES }])],
      { maxObjects: 8 },
    );
    await client.close();

    expect(objects).toHaveLength(20);
    expect(peer.received.map((r) => r.method)).not.toContain("ContinueRetrievePropertiesEx");

    // Types come from namespace prefixes bound on each value (XMLSchema-instance:type="xsd:int").
    const vm = objects[0];
    expect(vm?.obj).toEqual(new MoRef("VirtualMachine", "vm-363"));
    expect(vm?.props.get("name")).toBe("DC0_H0_VM0");
    expect(vm?.props.get("config.hardware.numCPU")).toBe(1);
    expect(vm?.props.get("config.hardware.memoryMB")).toBe(32);
    expect(vm?.props.get("config.template")).toBe(false);
    expect(vm?.props.get("runtime.powerState")).toBe("poweredOn");
    expect(vm?.props.get("runtime.host")).toEqual(new MoRef("HostSystem", "host-21"));
    expect(vm?.props.get("summary.storage.committed")).toBe(0);
    // Unset properties are absent, not empty.
    expect(vm?.props.has("config.createDate")).toBe(false);
  });

  it("turns the simulator's MethodNotFound answer to ContinueRetrievePropertiesEx into a typed SoapFault", async () => {
    const dir = "stock-0.24.2-RetrievePropertiesEx";
    const { client } = await session(dir, ["RetrieveServiceContent", "Login", "ContinueRetrievePropertiesEx"]);
    const failure = await continueRetrievePropertiesEx(client, "bogus").catch((err: unknown) => err);
    await client.close();

    expect(failure).toBeInstanceOf(SoapFault);
    const fault = failure as SoapFault;
    expect(fault.faultType).toBe("MethodNotFound");
    expect(fault.faultCode).toBe("ServerFaultCode");
    expect(fault.httpStatus).toBe(500);
    expect(fault.faultString).toContain("does not implement: ContinueRetrievePropertiesEx");
    expect(fault.detail?.method).toBe("ContinueRetrievePropertiesEx");
  });
});

import { describe, expect, it } from "vitest";
import { child, parseXml, type XmlElement } from "../../src/vsphere/soap/parse.js";
import { asList, decodeValue, MoRef } from "../../src/vsphere/soap/values.js";
import { envelope, escapeXml, field } from "../../src/vsphere/soap/xml.js";

const XSI = 'xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance"';

function parse(xml: string): XmlElement {
  const root = parseXml(xml);
  if (!root) throw new Error("no element");
  return root;
}

function value(xml: string) {
  return decodeValue(parse(xml));
}

describe("envelope building", () => {
  it("escapes markup and keeps every character of a value", () => {
    const password = `p&ss<w>rd"'\r\n\tü😀`;
    const xml = envelope("Login", new MoRef("SessionManager", "SessionManager"), field("password", password));
    expect(xml).toContain("p&amp;ss&lt;w&gt;rd&quot;&apos;&#xD;\n\tü😀");
    const body = child(parse(xml), "Body")?.children[0];
    expect(body?.name).toBe("Login");
    expect(body && child(body, "password")?.text).toBe(password);
    expect(body && child(body, "_this")?.attributes.type).toBe("SessionManager");
  });

  it("refuses control characters XML cannot carry", () => {
    expect(() => escapeXml("a\u0001b")).toThrow(TypeError);
  });

  it("omits unset optional fields", () => {
    expect(field("maxObjects", undefined)).toBe("");
    expect(field("recursive", false)).toBe("<recursive>false</recursive>");
  });
});

describe("namespace-aware type resolution", () => {
  it("finds xsi:type under any prefix bound to the XML Schema instance namespace", () => {
    expect(
      value(`<val ${XSI} XMLSchema-instance:type="xsd:int" xmlns:xsd="http://www.w3.org/2001/XMLSchema">42</val>`),
    ).toBe(42);
    expect(
      value(
        '<val xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:s="http://www.w3.org/2001/XMLSchema" i:type="s:boolean">true</val>',
      ),
    ).toBe(true);
  });

  it("uses bindings declared on ancestors", () => {
    const root = parse(
      '<e xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><v xsi:type="xsd:long">9007199254740991</v></e>',
    );
    expect(root.children[0]?.xsiType).toBe("xsd:long");
    expect(decodeValue(root.children[0] as XmlElement)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("ignores a literal xsi:type whose prefix is bound elsewhere", () => {
    const element = parse('<val xmlns:xsi="urn:not-xsi" xsi:type="xsd:int">42</val>');
    expect(element.xsiType).toBeUndefined();
    expect(decodeValue(element)).toBe("42");
  });

  it("names vim25 types by local name", () => {
    expect(
      value(`<val ${XSI} XMLSchema-instance:type="ManagedObjectReference" type="HostSystem">host-21</val>`),
    ).toEqual(new MoRef("HostSystem", "host-21"));
    expect(value(`<val ${XSI} XMLSchema-instance:type="VirtualMachinePowerState">poweredOff</val>`)).toBe("poweredOff");
  });

  it("decodes character references Go's encoder writes", () => {
    expect(
      value(`<val ${XSI} XMLSchema-instance:type="xsd:string">it&#39;s &#34;db&#34; &amp; &lt;web&gt; &#x1F600;</val>`),
    ).toBe(`it's "db" & <web> 😀`);
    expect(parse('<a n="x&#34;y&amp;z"/>').attributes.n).toBe('x"y&z');
  });
});

describe("value decoding", () => {
  it("reads arrays by their ArrayOf type", () => {
    expect(
      value(
        `<val ${XSI} XMLSchema-instance:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="HostSystem">host-1</ManagedObjectReference><ManagedObjectReference type="HostSystem">host-2</ManagedObjectReference></val>`,
      ),
    ).toEqual([new MoRef("HostSystem", "host-1"), new MoRef("HostSystem", "host-2")]);
    expect(value(`<val ${XSI} XMLSchema-instance:type="ArrayOfInt"><int>1</int><int>2</int></val>`)).toEqual([1, 2]);
    expect(value(`<val ${XSI} XMLSchema-instance:type="ArrayOfString"></val>`)).toEqual([]);
  });

  it("reads data objects, collecting repeated fields and typing nested ones", () => {
    const decoded = value(
      `<val ${XSI} XMLSchema-instance:type="VirtualHardware"><numCPU>2</numCPU>` +
        `<device XMLSchema-instance:type="VirtualDisk"><key>2000</key><capacityInKB>1048576</capacityInKB></device>` +
        `<device XMLSchema-instance:type="VirtualCdrom"><key>3000</key></device></val>`,
    );
    expect(decoded).toMatchObject({ $type: "VirtualHardware", numCPU: "2" });
    const devices = asList((decoded as { device?: never }).device);
    expect(devices.map((d) => (d as { $type: string }).$type)).toEqual(["VirtualDisk", "VirtualCdrom"]);
  });

  it("keeps a typed data object with all fields unset as an object", () => {
    expect(value(`<val ${XSI} XMLSchema-instance:type="InvalidLogin"></val>`)).toEqual({ $type: "InvalidLogin" });
  });
});

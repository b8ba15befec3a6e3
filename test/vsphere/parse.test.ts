import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VsphereProtocolError } from "../../src/vsphere/soap/errors.js";
import { parseXml, type XmlElement } from "../../src/vsphere/soap/parse.js";
import { escapeXml } from "../../src/vsphere/soap/xml.js";
import { readCapturedResponse } from "./replay.js";

function parse(xml: string): XmlElement {
  const root = parseXml(xml);
  if (!root) throw new Error("no element");
  return root;
}

interface Tree {
  name: string;
  namespace?: string | undefined;
  attributes: Record<string, string>;
  xsiType?: string | undefined;
  children: Tree[];
  text: string;
}

// Fixed key order, so that the digests below depend on the tree alone.
function canonical(element: XmlElement): Tree {
  return {
    name: element.name,
    namespace: element.namespace,
    attributes: { ...element.attributes },
    xsiType: element.xsiType,
    children: element.children.map(canonical),
    text: element.text,
  };
}

function malformed(xml: string): string {
  try {
    parseXml(xml);
  } catch (err) {
    expect(err).toBeInstanceOf(VsphereProtocolError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(xml)}`);
}

describe("parseXml", () => {
  it("reads elements, attributes and namespaces", () => {
    const root = parse(
      '<s:E xmlns:s="urn:s" xmlns="urn:d" id="1"><x a="1" b=\'2\' s:q="dropped"><y/></x><s:z></s:z></s:E>',
    );
    expect(root).toMatchObject({ name: "E", namespace: "urn:s", attributes: { id: "1" } });
    const [x, z] = root.children;
    expect(x).toMatchObject({ name: "x", namespace: "urn:d", attributes: { a: "1", b: "2" }, text: "" });
    expect(x?.children[0]).toMatchObject({ name: "y", namespace: "urn:d", children: [], text: "" });
    expect(z).toMatchObject({ name: "z", namespace: "urn:s", children: [], text: "" });
  });

  it("keeps declarations scoped to their element", () => {
    const root = parse('<a xmlns="urn:outer"><b xmlns="urn:inner"><c/></b><d xmlns=""/><e/></a>');
    expect(root.children.map((c) => c.namespace)).toEqual(["urn:inner", "", "urn:outer"]);
    expect(root.children[0]?.children[0]?.namespace).toBe("urn:inner");
    expect(parse("<p:a/>").namespace).toBeUndefined();
  });

  it("resolves xsi:type against the prefixes in scope", () => {
    const root = parse(
      '<e xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
        '<v xsi:type="xsd:long"/><v xmlns:xsd="urn:other" xsi:type="xsd:long"/>' +
        '<v xmlns:q="http://www.w3.org/2001/XMLSchema" xsi:type="q:int"/><v xsi:type="VirtualDisk"/>' +
        '<v xmlns:xsi="urn:not-xsi" xsi:type="xsd:int"/><v type="HostSystem"/></e>',
    );
    expect(root.children.map((c) => c.xsiType)).toEqual([
      "xsd:long",
      "long",
      "xsd:int",
      "VirtualDisk",
      undefined,
      undefined,
    ]);
    expect(root.children[5]?.attributes).toEqual({ type: "HostSystem" });
  });

  it("decodes the predefined entities and character references, Go's included", () => {
    expect(parse("<a>&lt;&gt;&amp;&quot;&apos;</a>").text).toBe(`<>&"'`);
    expect(parse("<a>it&#39;s &#34;db&#34; &#x1F600;&#128512;&#xd;&#xA;&#9;</a>").text).toBe(`it's "db" 😀😀\r\n\t`);
    expect(parse('<a v="&#34;&lt;&amp;&#x27;" w=\'say "hi"\' x="it\'s"/>').attributes).toEqual({
      v: `"<&'`,
      w: 'say "hi"',
      x: "it's",
    });
    // Some serializers write characters outside the BMP as two references to surrogates.
    expect(parse("<a>&#xD83D;&#xDE00;</a>").text).toBe("😀");
  });

  it("reads CDATA sections verbatim and joins them with the surrounding text", () => {
    expect(parse("<a><![CDATA[<raw> &amp; ]]]]><![CDATA[>]]>tail</a>").text).toBe("<raw> &amp; ]]>tail");
    expect(parse("<a><![CDATA[]]></a>").text).toBe("");
    expect(parse("<a>x<![CDATA[&]]>&amp;</a>").text).toBe("x&&");
  });

  it("skips the XML declaration, comments and processing instructions", () => {
    const root = parse(
      '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- a > b --><a><?pi data?>x<!-- <b/> -->y</a><!-- end -->\n',
    );
    expect(root).toMatchObject({ name: "a", children: [], text: "xy" });
  });

  it("drops character data beside child elements but keeps it in leaves, whitespace included", () => {
    const root = parse("<a>\n  <b> </b>\n  mixed <c/>\n</a>");
    expect(root.text).toBe("");
    expect(root.children.map((c) => c.text)).toEqual([" ", ""]);
  });

  it("sees line ends as LF, as XML requires, while &#xD; still yields CR", () => {
    expect(parse("<a>1\r\n2\r3\n4&#xD;</a>").text).toBe("1\n2\n3\n4\r");
    expect(parse('<a v="1\r\n2"/>').attributes.v).toBe("1\n2");
  });

  it("accepts whitespace around attributes and in end tags", () => {
    expect(parse("<a\n  x = \"1\"\n\ty\t=\t'2'\n></a >").attributes).toEqual({ x: "1", y: "2" });
  });

  it("shares empty attribute and child lists between elements", () => {
    const root = parse("<a><b/><c></c></a>");
    expect(root.children[0]?.children).toBe(root.children[1]?.children);
    expect(root.attributes).toBe(root.children[0]?.attributes);
  });

  it("returns undefined when there is no element", () => {
    expect(parseXml("")).toBeUndefined();
    expect(parseXml(' \n<?xml version="1.0"?><!-- nothing -->\n')).toBeUndefined();
  });
});

describe("parseXml on malformed input", () => {
  it.each([
    ["<a><b></a>", /line 1, column 7: end tag <\/a> does not match <b>, opened at line 1, column 4/],
    ["<a>\n  <b></c>\n</a>", /line 2, column 6: end tag <\/c> does not match <b>, opened at line 2, column 3/],
    ["<ab></a>", /end tag <\/a> does not match <ab>/],
    ["<a></ab>", /end tag <\/ab> does not match <a>/],
    ["<a><b>", /line 1, column 7: the document ends inside <b>, opened at line 1, column 4/],
    ["<a>text", /the document ends inside <a>/],
    ["<a", /the document ends inside the start tag of <a>/],
    ['<a x="1"', /the document ends inside the start tag of <a>/],
    ["<a></a", /the document ends inside the end tag of <a>/],
    ["<a></a x>", /unexpected 'x' in the end tag of <a>/],
    ["</a>", /end tag <\/a> without a start tag/],
    ['<a x="1/>', /the value of attribute x is not closed/],
    ['<a x="1><b y="2"/></a>', /'<' in the value of attribute x/],
    ["<a x=1/>", /expected a quoted value for attribute x/],
    ["<a x/>", /expected '=' after attribute x/],
    ["<a =''/>", /unexpected '=' in a start tag/],
    ["< a/>", /expected an element name/],
    ["<a>&foo;</a>", /line 1, column 4: '&' that does not start a known entity/],
    ["<a>&amp</a>", /'&' that does not start a known entity/],
    ["<a>fish & chips</a>", /'&' that does not start a known entity/],
    ['<a x="&amp"/>', /'&' that does not start a known entity/],
    ["<a>&#;</a>", /a malformed character reference/],
    ["<a>&#x;</a>", /a malformed character reference/],
    ["<a>&#X41;</a>", /a malformed character reference/],
    ["<a>&#xZZ;</a>", /a malformed character reference/],
    ["<a>&#65</a>", /a malformed character reference/],
    ["<a>&#1114112;</a>", /a character reference beyond U\+10FFFF/],
    ["<a><b/> &bad; <c/></a>", /'&' that does not start a known entity/],
    ["<a><!-- open</a>", /a comment is not closed/],
    ["<a><![CDATA[open</a>", /a CDATA section is not closed/],
    ["<a><?pi</a>", /a processing instruction is not closed/],
    ["<a><!ELEMENT a ANY></a>", /unexpected markup after '<!'/],
    ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', /document type declarations are not accepted/],
    ["<a/><b/>", /a second root element/],
    ["<a/>tail", /text outside the root element/],
    ["hello", /text outside the root element/],
  ])("refuses %j", (xml, problem) => {
    expect(malformed(xml)).toMatch(problem);
  });

  it("refuses a real envelope cut short anywhere inside its root element", () => {
    const body = readCapturedResponse("paged-shim-maxObjects8", "RetrieveServiceContent").body;
    const rootEnd = body.lastIndexOf(">") + 1;
    const rootStart = body.indexOf("<soapenv:Envelope");
    const accepted: number[] = [];
    for (let cut = rootStart + 1; cut < rootEnd; cut++) {
      try {
        parseXml(body.slice(0, cut));
        accepted.push(cut);
      } catch (err) {
        if (!(err instanceof VsphereProtocolError)) throw err;
      }
    }
    expect(accepted).toEqual([]);
    expect(parseXml(body.slice(0, rootEnd))?.name).toBe("Envelope");
  });
});

describe("parseXml compared with the fast-xml-parser based parser it replaced", () => {
  const fixture = JSON.parse(readFileSync(new URL("fixtures/parse-trees.json", import.meta.url), "utf8")) as {
    captures: Record<string, string>;
    documents: { xml: string; tree: Tree | null }[];
  };

  it.each(Object.entries(fixture.captures))("builds the same tree from the recorded %s", (capture, digest) => {
    const [dir = "", name = ""] = capture.split("/");
    const root = parse(readCapturedResponse(dir, name).body);
    expect(
      createHash("sha256")
        .update(JSON.stringify(canonical(root)))
        .digest("hex"),
    ).toBe(digest);
  });

  it.each(fixture.documents)("builds the same tree from hand-written document %#", ({ xml, tree }) => {
    const root = parseXml(xml);
    expect(root ? canonical(root) : null).toEqual(tree);
  });
});

describe("parseXml on generated documents", () => {
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom("&", "<", ">", '"', "'", "]]>", "\r", "\n", "\t", " ", "ü", "€", "😀"),
      fc.string({ unit: "grapheme-ascii", maxLength: 4 }),
    ),
    maxLength: 8,
  });
  const name = fc.constantFrom("a", "val", "propSet", "x-y", "n.m", "_z");
  const attributes = fc.dictionary(fc.constantFrom("type", "key", "k_2"), text, { maxKeys: 3, noNullPrototype: true });
  type Generated = { name: string; attributes: Record<string, string>; children: readonly Generated[]; text: string };
  const { element } = fc.letrec<{ element: Generated }>((tie) => ({
    element: fc.record({
      name,
      attributes,
      children: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.constant([]),
        fc.array(tie("element"), { minLength: 1, maxLength: 4 }),
      ),
      text,
    }),
  }));
  const encoding = fc.constantFrom("escaped", "references", "cdata");

  // Writes the generated tree the way different peers would; text beside children is noise the reader drops.
  function write(node: Generated, style: "escaped" | "references" | "cdata"): string {
    const attrs = Object.entries(node.attributes)
      .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
      .join("");
    let content: string;
    if (node.children.length > 0) {
      content = `\n ${node.children.map((c) => write(c, style)).join("\n  ")}\n`;
    } else if (style === "references") {
      content = [...node.text].map((c) => `&#${c.codePointAt(0)};`).join("");
    } else if (style === "cdata" && !node.text.includes("]]>") && !node.text.includes("\r")) {
      content = `<![CDATA[${node.text}]]>`;
    } else content = escapeXml(node.text);
    return content === "" ? `<${node.name}${attrs}/>` : `<${node.name}${attrs}>${content}</${node.name}>`;
  }

  function expected(node: Generated): Tree {
    return {
      name: node.name,
      namespace: undefined,
      attributes: node.attributes,
      xsiType: undefined,
      children: node.children.map(expected),
      text: node.children.length > 0 ? "" : node.text,
    };
  }

  it("reads back every tree, however its text is encoded", () => {
    fc.assert(
      fc.property(element, encoding, (tree, style) => {
        expect(canonical(parse(write(tree, style)))).toEqual(expected(tree));
      }),
      { numRuns: 300 },
    );
  });
});

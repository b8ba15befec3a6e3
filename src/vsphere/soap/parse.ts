import { VsphereProtocolError } from "./errors.js";
import { XSD_NS, XSI_NS } from "./xml.js";

/** A namespace-resolved element: what the rest of the client reads instead of raw parser output. */
export interface XmlElement {
  /** Local name, without prefix. */
  readonly name: string;
  readonly namespace: string | undefined;
  /** Unqualified attributes (such as a MoRef's `type`); namespace declarations and qualified ones are left out. */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * The element's xsi:type, whatever prefix the document bound to the XML Schema instance namespace.
   * XML Schema built-ins come back as `xsd:<name>`; any other type as its local name (`ManagedObjectReference`).
   */
  readonly xsiType: string | undefined;
  readonly children: readonly XmlElement[];
  /** Decoded character data; empty for elements that have child elements. */
  readonly text: string;
}

/**
 * The namespace declarations in force, innermost first. vim25 peers declare the XML Schema instance prefix on
 * every value, so a declaration costs one small object rather than a map per element.
 */
interface Scope {
  readonly prefix: string;
  readonly namespace: string;
  readonly outer: Scope | undefined;
}

const ROOT_SCOPE: Scope = { prefix: "xml", namespace: "http://www.w3.org/XML/1998/namespace", outer: undefined };

function lookup(scope: Scope | undefined, prefix: string): string | undefined {
  for (let s = scope; s; s = s.outer) if (s.prefix === prefix) return s.namespace;
  return undefined;
}

/** An xsi:type value split once per distinct spelling, since a large answer repeats a handful of them. */
interface TypeName {
  readonly prefix: string;
  readonly local: string;
  /** How XmlElement.xsiType names it when the prefix is bound to XML Schema. */
  readonly builtIn: string;
}

function splitTypeName(value: string): TypeName {
  const colon = value.indexOf(":");
  const local = colon < 0 ? value : value.slice(colon + 1);
  return { prefix: colon < 0 ? "" : value.slice(0, colon), local, builtIn: `xsd:${local}` };
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});
const NO_CHILDREN: readonly XmlElement[] = Object.freeze([]);

// Every element is created by this one literal so that they all share a hidden class, which keeps the
// collector's property reads monomorphic.
function element(
  name: string,
  namespace: string | undefined,
  attributes: Readonly<Record<string, string>>,
  xsiType: string | undefined,
  children: readonly XmlElement[],
  text: string,
): XmlElement {
  return { name, namespace, attributes, xsiType, children, text };
}

const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const HASH = 0x23;
const LOWER_X = 0x78;
const BOM = 0xfeff;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

// XML names allow far more than ASCII; everything from U+0080 up is accepted rather than checked against the
// NameChar ranges, which only matters for documents no vim25 peer writes.
const ASCII_NAME_CHAR = new Uint8Array(128);
for (const range of ["AZ", "az", "09", "--", "..", "__", "::"]) {
  for (let c = range.charCodeAt(0); c <= range.charCodeAt(1); c++) ASCII_NAME_CHAR[c] = 1;
}

function isNameChar(c: number): boolean {
  return c < 128 ? ASCII_NAME_CHAR[c] === 1 : true;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

const NAMED_ENTITIES: readonly (readonly [string, string])[] = [
  ["lt;", "<"],
  ["gt;", ">"],
  ["amp;", "&"],
  ["quot;", '"'],
  ["apos;", "'"],
];

// Strings longer than this are rarely repeated (UUIDs and names are mostly unique), so they are not interned.
const INTERN_MAX_LENGTH = 64;
const INTERN_MIN_SLOTS = 64;
const INTERN_MAX_SLOTS = 4096;
const INTERN_HASHED_ENDS = 8;

/** An element whose end tag is still to come. */
interface OpenElement {
  /** Where its start tag begins, for error messages. */
  start: number;
  /** Its qualified name as a range of the source, which the end tag must repeat. */
  nameStart: number;
  nameEnd: number;
  name: string;
  namespace: string | undefined;
  scope: Scope;
  attributes: Readonly<Record<string, string>>;
  xsiType: string | undefined;
  children: XmlElement[] | undefined;
  /** The first piece of character data; later pieces (after a comment, or CDATA sections) go to `moreText`. */
  text: string;
  moreText: string[] | undefined;
}

/**
 * A single-pass reader for the XML that SOAP peers send: elements, attributes, character data, the five
 * predefined entities, character references, CDATA sections, comments and processing instructions. DTDs are
 * refused (SOAP forbids them). It scans with indexOf and charCodeAt and slices values straight out of the source,
 * so a 12 MB inventory answer costs little more than the tree it produces.
 */
class XmlReader {
  private readonly xml: string;
  /** Open elements by depth; the objects are reused for the next element at the same depth. */
  private readonly open: OpenElement[] = [];
  private depth = 0;
  private root: XmlElement | undefined;
  // Positions of the next '&' and '<' at or after the last search. Remembering them keeps the scans for
  // references in values and text linear: a plain indexOf cannot stop at the end of the value.
  private nextAmpersand = -1;
  private nextLessThan = -1;
  private readonly pieces: string[] = [];
  // The current start tag's attributes; `attributeColons` holds the position of the first colon in the name, or -1.
  private readonly attributeStarts: number[] = [];
  private readonly attributeColons: number[] = [];
  private readonly attributeNames: string[] = [];
  private readonly attributeValues: string[] = [];
  // A direct-mapped cache of recently seen short strings. Element and attribute names, namespace URIs and type
  // names recur on every value of a large answer; sharing one string per spelling spares the garbage collector
  // hundreds of thousands of copies. A collision just replaces the slot.
  private readonly interned: string[];
  private readonly internMask: number;
  private readonly typeNames = new Map<string, TypeName>();
  /** The first colon seen by the last `scanName`, or -1. */
  private colon = -1;
  /** The index just after the last reference decoded by `reference`. */
  private referenceEnd = 0;

  constructor(xml: string) {
    // XML parsers see every CR LF pair and lone CR as LF; references such as &#xD; still produce a CR.
    this.xml = xml.includes("\r") ? xml.replace(/\r\n?/g, "\n") : xml;
    // Most answers are a few kilobytes and should not pay for clearing a table sized for an inventory.
    let slots = INTERN_MIN_SLOTS;
    while (slots < INTERN_MAX_SLOTS && slots * 32 < xml.length) slots *= 2;
    this.interned = new Array<string>(slots).fill("");
    this.internMask = slots - 1;
  }

  read(): XmlElement | undefined {
    const xml = this.xml;
    const length = xml.length;
    let pos = xml.charCodeAt(0) === BOM ? 1 : 0;
    while (pos < length) {
      const lt = xml.indexOf("<", pos);
      const textEnd = lt < 0 ? length : lt;
      if (textEnd > pos) this.characterData(pos, textEnd);
      if (lt < 0) break;
      const next = xml.charCodeAt(lt + 1);
      if (next === SLASH) pos = this.endTag(lt);
      else if (next === BANG) pos = this.declaration(lt);
      else if (next === QUESTION) pos = this.skipPast("?>", lt + 2, lt, "processing instruction");
      else pos = this.startTag(lt);
    }
    if (this.depth > 0) {
      const innermost = this.open[this.depth - 1] as OpenElement;
      this.fail(
        `the document ends inside <${this.qualifiedName(innermost)}>, opened at ${this.where(innermost.start)}`,
        length,
      );
    }
    return this.root;
  }

  private startTag(lt: number): number {
    const xml = this.xml;
    if (this.depth === 0 && this.root) this.fail("a second root element", lt);
    const nameStart = lt + 1;
    let pos = this.scanName(nameStart);
    if (pos === nameStart) this.fail("expected an element name after '<'", nameStart);
    const nameEnd = pos;
    const nameColon = this.colon;

    let count = 0;
    let selfClosing = false;
    for (;;) {
      pos = this.skipWhitespace(pos);
      const c = xml.charCodeAt(pos);
      if (c === GT) {
        pos++;
        break;
      }
      if (c === SLASH && xml.charCodeAt(pos + 1) === GT) {
        selfClosing = true;
        pos += 2;
        break;
      }
      if (pos >= xml.length)
        this.fail(`the document ends inside the start tag of <${xml.slice(nameStart, nameEnd)}>`, lt);
      const attributeStart = pos;
      pos = this.scanName(pos);
      if (pos === attributeStart) this.fail(`unexpected ${this.describe(pos)} in a start tag`, pos);
      const attributeColon = this.colon;
      const attributeName = this.intern(attributeStart, pos);
      pos = this.skipWhitespace(pos);
      if (xml.charCodeAt(pos) !== EQUALS) this.fail(`expected '=' after attribute ${attributeName}`, pos);
      pos = this.skipWhitespace(pos + 1);
      const quote = xml.charCodeAt(pos);
      if (quote !== DOUBLE_QUOTE && quote !== SINGLE_QUOTE) {
        this.fail(`expected a quoted value for attribute ${attributeName}`, pos);
      }
      const valueEnd = xml.indexOf(quote === DOUBLE_QUOTE ? '"' : "'", pos + 1);
      if (valueEnd < 0) this.fail(`the value of attribute ${attributeName} is not closed`, pos);
      // A '<' in a value is not allowed; more likely, a closing quote is missing and the value ran on into markup.
      if (this.nextLessThan <= pos) this.nextLessThan = this.indexOrEnd("<", pos + 1);
      if (this.nextLessThan < valueEnd) this.fail(`'<' in the value of attribute ${attributeName}`, this.nextLessThan);
      this.attributeStarts[count] = attributeStart;
      this.attributeColons[count] = attributeColon;
      this.attributeNames[count] = attributeName;
      this.attributeValues[count] = this.decode(pos + 1, valueEnd);
      count++;
      pos = valueEnd + 1;
    }

    const outer = this.depth > 0 ? (this.open[this.depth - 1] as OpenElement).scope : ROOT_SCOPE;
    const scope = this.declareNamespaces(outer, count);
    let attributes: Record<string, string> | undefined;
    let xsiType: string | undefined;
    for (let i = 0; i < count; i++) {
      if (this.isDeclaration(i)) continue;
      const name = this.attributeNames[i] as string;
      const value = this.attributeValues[i] as string;
      const separator = this.attributeColons[i] as number;
      if (separator < 0) {
        attributes ??= {};
        attributes[name] = value;
      } else if (
        name.endsWith(":type") &&
        lookup(scope, this.intern(this.attributeStarts[i] as number, separator)) === XSI_NS
      ) {
        xsiType = this.typeName(scope, value);
      }
    }

    const name = this.intern(nameColon < 0 ? nameStart : nameColon + 1, nameEnd);
    const namespace = lookup(scope, nameColon < 0 ? "" : this.intern(nameStart, nameColon));
    if (selfClosing) {
      this.attach(element(name, namespace, attributes ?? NO_ATTRIBUTES, xsiType, NO_CHILDREN, ""));
      return pos;
    }
    let frame = this.open[this.depth];
    if (!frame) {
      frame = {} as OpenElement;
      this.open[this.depth] = frame;
    }
    frame.start = lt;
    frame.nameStart = nameStart;
    frame.nameEnd = nameEnd;
    frame.name = name;
    frame.namespace = namespace;
    frame.scope = scope;
    frame.attributes = attributes ?? NO_ATTRIBUTES;
    frame.xsiType = xsiType;
    frame.children = undefined;
    frame.text = "";
    frame.moreText = undefined;
    this.depth++;
    return pos;
  }

  private declareNamespaces(outer: Scope, count: number): Scope {
    let scope = outer;
    for (let i = 0; i < count; i++) {
      if (!this.isDeclaration(i)) continue;
      const colon = this.attributeColons[i] as number;
      const end = (this.attributeStarts[i] as number) + (this.attributeNames[i] as string).length;
      const prefix = colon < 0 ? "" : this.intern(colon + 1, end);
      scope = { prefix, namespace: this.attributeValues[i] as string, outer: scope };
    }
    return scope;
  }

  /** Whether attribute `i` of the current start tag is `xmlns` or `xmlns:<prefix>`. */
  private isDeclaration(i: number): boolean {
    const name = this.attributeNames[i] as string;
    const colon = this.attributeColons[i] as number;
    return colon < 0 ? name === "xmlns" : colon === (this.attributeStarts[i] as number) + 5 && name.startsWith("xmlns");
  }

  private typeName(scope: Scope, value: string): string {
    let type = this.typeNames.get(value);
    if (!type) {
      type = splitTypeName(value);
      this.typeNames.set(value, type);
    }
    return lookup(scope, type.prefix) === XSD_NS ? type.builtIn : type.local;
  }

  private intern(start: number, end: number): string {
    const xml = this.xml;
    const length = end - start;
    if (length > INTERN_MAX_LENGTH) return xml.slice(start, end);
    // Long strings are told apart by their length and ends (namespace URIs share their beginnings), which keeps
    // hashing cheap; the comparison below catches the collisions.
    let hash = length;
    const head = length > 2 * INTERN_HASHED_ENDS ? start + INTERN_HASHED_ENDS : end;
    for (let i = start; i < head; i++) hash = (Math.imul(hash, 31) + xml.charCodeAt(i)) | 0;
    for (let i = Math.max(head, end - INTERN_HASHED_ENDS); i < end; i++) {
      hash = (Math.imul(hash, 31) + xml.charCodeAt(i)) | 0;
    }
    const slot = hash & this.internMask;
    const known = this.interned[slot] as string;
    if (known.length === length && xml.startsWith(known, start)) return known;
    const fresh = xml.slice(start, end);
    this.interned[slot] = fresh;
    return fresh;
  }

  private endTag(lt: number): number {
    const xml = this.xml;
    const nameStart = lt + 2;
    if (this.depth === 0) {
      this.fail(`end tag </${xml.slice(nameStart, this.scanName(nameStart))}> without a start tag`, lt);
    }
    const frame = this.open[this.depth - 1] as OpenElement;
    const nameLength = frame.nameEnd - frame.nameStart;
    const after = nameStart + nameLength;
    let matches = after >= xml.length || !isNameChar(xml.charCodeAt(after));
    for (let i = 0; matches && i < nameLength; i++) {
      matches = xml.charCodeAt(nameStart + i) === xml.charCodeAt(frame.nameStart + i);
    }
    if (!matches) {
      const found = xml.slice(nameStart, this.scanName(nameStart));
      this.fail(
        `end tag </${found}> does not match <${this.qualifiedName(frame)}>, opened at ${this.where(frame.start)}`,
        lt,
      );
    }
    const pos = this.skipWhitespace(after);
    if (xml.charCodeAt(pos) !== GT) {
      if (pos >= xml.length) this.fail(`the document ends inside the end tag of <${this.qualifiedName(frame)}>`, lt);
      this.fail(`unexpected ${this.describe(pos)} in the end tag of <${this.qualifiedName(frame)}>`, pos);
    }
    this.depth--;
    const children = frame.children;
    const text = children ? "" : frame.moreText ? frame.moreText.join("") : frame.text;
    // Most elements are leaves; sharing one empty list spares the collector an array per value.
    this.attach(element(frame.name, frame.namespace, frame.attributes, frame.xsiType, children ?? NO_CHILDREN, text));
    return pos + 1;
  }

  private attach(child: XmlElement): void {
    if (this.depth === 0) {
      this.root = child;
      return;
    }
    const parent = this.open[this.depth - 1] as OpenElement;
    if (parent.children) parent.children.push(child);
    else {
      parent.children = [child];
      // Once an element has children its character data (indentation, in practice) is not kept.
      parent.text = "";
      parent.moreText = undefined;
    }
  }

  /** `<!--` comments and `<![CDATA[` sections; anything else after `<!` is refused. */
  private declaration(lt: number): number {
    const xml = this.xml;
    if (xml.startsWith("<!--", lt)) return this.skipPast("-->", lt + 4, lt, "comment");
    if (xml.startsWith("<![CDATA[", lt)) {
      const end = xml.indexOf("]]>", lt + 9);
      if (end < 0) this.fail("a CDATA section is not closed", lt);
      if (this.depth === 0) this.fail("a CDATA section outside the root element", lt);
      this.appendText(xml.slice(lt + 9, end));
      return end + 3;
    }
    if (xml.startsWith("<!DOCTYPE", lt)) this.fail("document type declarations are not accepted", lt);
    this.fail("unexpected markup after '<!'", lt);
  }

  private skipPast(terminator: string, from: number, start: number, what: string): number {
    const end = this.xml.indexOf(terminator, from);
    if (end < 0) this.fail(`a ${what} is not closed`, start);
    return end + terminator.length;
  }

  private characterData(start: number, end: number): void {
    if (this.depth === 0) {
      for (let i = start; i < end; i++) {
        if (!isWhitespace(this.xml.charCodeAt(i))) this.fail("text outside the root element", i);
      }
      return;
    }
    if (!(this.open[this.depth - 1] as OpenElement).children) this.appendText(this.decode(start, end));
    // Text beside child elements is dropped, but a bad reference in it still makes the document malformed.
    else if (this.hasReference(start, end)) this.decode(start, end);
  }

  private appendText(text: string): void {
    const frame = this.open[this.depth - 1] as OpenElement;
    if (frame.children) return;
    if (frame.moreText) frame.moreText.push(text);
    else if (frame.text === "") frame.text = text;
    else frame.moreText = [frame.text, text];
  }

  private hasReference(start: number, end: number): boolean {
    if (this.nextAmpersand < start) this.nextAmpersand = this.indexOrEnd("&", start);
    return this.nextAmpersand < end;
  }

  /** The characters of the range with entity and character references replaced. */
  private decode(start: number, end: number): string {
    const xml = this.xml;
    if (!this.hasReference(start, end)) return this.intern(start, end);
    const pieces = this.pieces;
    pieces.length = 0;
    let from = start;
    let ampersand = this.nextAmpersand;
    while (ampersand < end) {
      if (ampersand > from) pieces.push(xml.slice(from, ampersand));
      pieces.push(this.reference(ampersand, end));
      from = this.referenceEnd;
      ampersand = this.indexOrEnd("&", from);
    }
    this.nextAmpersand = ampersand;
    if (end > from) pieces.push(xml.slice(from, end));
    return pieces.join("");
  }

  /** Decodes the reference at `ampersand`, which must end before `end`, and sets `referenceEnd`. */
  private reference(ampersand: number, end: number): string {
    const xml = this.xml;
    if (xml.charCodeAt(ampersand + 1) === HASH) {
      const hex = xml.charCodeAt(ampersand + 2) === LOWER_X;
      const digits = ampersand + (hex ? 3 : 2);
      let pos = digits;
      let code = 0;
      for (; pos < end; pos++) {
        const c = xml.charCodeAt(pos);
        const digit = hex ? hexDigit(c) : c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
        if (digit < 0) break;
        code = code * (hex ? 16 : 10) + digit;
        if (code > 0x10ffff) this.fail("a character reference beyond U+10FFFF", ampersand);
      }
      if (pos === digits || pos >= end || xml.charCodeAt(pos) !== SEMICOLON) {
        this.fail("a malformed character reference", ampersand);
      }
      this.referenceEnd = pos + 1;
      // Control characters are let through although XML 1.0 forbids them: some serializers write them anyway,
      // and one odd VM annotation must not fail a whole inventory.
      return String.fromCodePoint(code);
    }
    for (const [entity, character] of NAMED_ENTITIES) {
      if (xml.startsWith(entity, ampersand + 1) && ampersand + 1 + entity.length <= end) {
        this.referenceEnd = ampersand + 1 + entity.length;
        return character;
      }
    }
    this.fail("'&' that does not start a known entity or character reference", ampersand);
  }

  private scanName(from: number): number {
    const xml = this.xml;
    const length = xml.length;
    let pos = from;
    this.colon = -1;
    for (; pos < length; pos++) {
      const c = xml.charCodeAt(pos);
      if (!isNameChar(c)) break;
      if (c === COLON && this.colon < 0) this.colon = pos;
    }
    return pos;
  }

  private skipWhitespace(from: number): number {
    let pos = from;
    while (isWhitespace(this.xml.charCodeAt(pos))) pos++;
    return pos;
  }

  private indexOrEnd(search: string, from: number): number {
    const found = this.xml.indexOf(search, from);
    return found < 0 ? this.xml.length : found;
  }

  private qualifiedName(frame: OpenElement): string {
    return this.xml.slice(frame.nameStart, frame.nameEnd);
  }

  private describe(pos: number): string {
    return pos < this.xml.length ? `'${this.xml[pos]}'` : "end of the document";
  }

  private where(pos: number): string {
    let line = 1;
    let lineStart = 0;
    for (let nl = this.xml.indexOf("\n"); nl >= 0 && nl < pos; nl = this.xml.indexOf("\n", nl + 1)) {
      line++;
      lineStart = nl + 1;
    }
    return `line ${line}, column ${pos - lineStart + 1}`;
  }

  private fail(problem: string, pos: number): never {
    throw new VsphereProtocolError(`malformed XML at ${this.where(pos)}: ${problem}`);
  }
}

/**
 * Parses a document into namespace-resolved elements and returns its root element, or undefined when the text
 * holds no element at all (only whitespace, comments and processing instructions). A document that is not
 * well-formed (an element left open, a mismatched end tag, an unknown entity) raises a VsphereProtocolError
 * naming the line and column.
 */
export function parseXml(xml: string): XmlElement | undefined {
  return new XmlReader(xml).read();
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function childText(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text;
}

import type { MoRef } from "./values.js";

export const SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/";
export const VIM25_NS = "urn:vim25";
export const XSI_NS = "http://www.w3.org/2001/XMLSchema-instance";
export const XSD_NS = "http://www.w3.org/2001/XMLSchema";

// XML 1.0 cannot carry control characters other than tab, LF and CR, nor U+FFFE/U+FFFF, not even as character
// references, so they are refused rather than silently dropped from (for example) a password.
function representable(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) return false;
  }
  return true;
}

const SPECIAL = /[&<>"'\r]/g;
const REPLACEMENTS: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // A literal CR would be normalised to LF by the receiving parser.
  "\r": "&#xD;",
};

/** Escapes text for use in element content and attribute values alike. */
export function escapeXml(value: string): string {
  if (!representable(value)) throw new TypeError("value contains a control character that XML cannot represent");
  return value.replace(SPECIAL, (c) => REPLACEMENTS[c] ?? c);
}

export type Scalar = string | number | boolean;

/** `<name>value</name>`, or nothing when the value is undefined (vim25 optional fields are simply omitted). */
export function field(name: string, value: Scalar | undefined): string {
  if (value === undefined) return "";
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function moRefElement(name: string, ref: MoRef): string {
  return `<${name} type="${escapeXml(ref.type)}">${escapeXml(ref.value)}</${name}>`;
}

/** A polymorphic data object: vim25 needs xsi:type wherever the declared type is a base type. */
export function typedElement(name: string, type: string, content: string): string {
  return `<${name} xmlns:xsi="${XSI_NS}" xsi:type="${escapeXml(type)}">${content}</${name}>`;
}

/** One vim25 method call: `<method><_this/>...parameters</method>` inside a SOAP 1.1 envelope. */
export function envelope(method: string, self: MoRef, parameters: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}"><soapenv:Body>` +
    `<${method} xmlns="${VIM25_NS}">${moRefElement("_this", self)}${parameters}</${method}>` +
    "</soapenv:Body></soapenv:Envelope>"
  );
}

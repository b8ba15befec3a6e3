import type { XmlElement } from "./parse.js";

/** A managed object reference: `<obj type="VirtualMachine">vm-123</obj>`. */
export class MoRef {
  constructor(
    readonly type: string,
    readonly value: string,
  ) {}
}

/**
 * A vim25 data object decoded without a schema. Fields that occur several times become arrays, but a repeated
 * field that happens to occur once does not, so read array-typed fields through `asList`.
 */
export interface DataObject {
  readonly $type: string | undefined;
  readonly [field: string]: SoapValue | undefined;
}

export type SoapValue = string | number | boolean | MoRef | DataObject | SoapValue[];

const NUMERIC = new Set(["int", "long", "short", "byte", "float", "double", "decimal", "integer"]);

function scalar(xsdName: string, text: string): SoapValue {
  if (NUMERIC.has(xsdName)) return Number(text);
  if (xsdName === "boolean") return text === "true" || text === "1";
  return text;
}

/** Decodes a value by its xsi:type; untyped elements are read by shape (MoRef, data object or text). */
export function decodeValue(element: XmlElement): SoapValue {
  const type = element.xsiType;
  if (type !== undefined) {
    if (type.startsWith("xsd:")) return scalar(type.slice(4), element.text);
    if (type === "ManagedObjectReference") return new MoRef(element.attributes.type ?? "", element.text);
    if (type.startsWith("ArrayOf")) {
      const item = type.slice(7);
      const primitive = item.charAt(0).toLowerCase() + item.slice(1);
      if (NUMERIC.has(primitive) || primitive === "boolean" || primitive === "string") {
        return element.children.map((c) => scalar(primitive, c.text));
      }
      return element.children.map(decodeValue);
    }
  }
  if (element.children.length > 0) return decodeDataObject(element);
  if (type === undefined && element.attributes.type !== undefined)
    return new MoRef(element.attributes.type, element.text);
  // A typed element without fields is either an enum value (text) or a data object whose fields are all unset.
  if (type !== undefined && element.text === "") return { $type: type };
  return element.text;
}

export function decodeDataObject(element: XmlElement): DataObject {
  const object: Record<string, SoapValue | string | undefined> = { $type: element.xsiType };
  // Fields made into arrays by repetition; a single field whose value is an array (ArrayOf*) is not one of them.
  const repeated = new Set<string>();
  for (const c of element.children) {
    const value = decodeValue(c);
    const existing = object[c.name];
    if (existing === undefined) object[c.name] = value;
    else if (repeated.has(c.name)) (existing as SoapValue[]).push(value);
    else {
      object[c.name] = [existing, value];
      repeated.add(c.name);
    }
  }
  return object as DataObject;
}

export function asList(value: SoapValue | undefined): SoapValue[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function isDataObject(value: SoapValue | undefined): value is DataObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof MoRef);
}

export function asString(value: SoapValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function asNumber(value: SoapValue | undefined): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function asBoolean(value: SoapValue | undefined): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return undefined;
}

export function asMoRef(value: SoapValue | undefined): MoRef | undefined {
  return value instanceof MoRef ? value : undefined;
}

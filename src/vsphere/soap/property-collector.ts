import type { VimClient } from "./client.js";
import { VsphereProtocolError } from "./errors.js";
import { child, childText, type XmlElement } from "./parse.js";
import { decodeValue, MoRef, type SoapValue } from "./values.js";
import { field, moRefElement, typedElement } from "./xml.js";

export interface PropertySpec {
  type: string;
  pathSet?: readonly string[];
  all?: boolean;
}

export interface TraversalSpec {
  type: string;
  path: string;
  skip?: boolean;
}

export interface ObjectSpec {
  obj: MoRef;
  skip?: boolean;
  selectSet?: readonly TraversalSpec[];
}

export interface PropertyFilterSpec {
  propSet: readonly PropertySpec[];
  objectSet: readonly ObjectSpec[];
}

export interface MissingProperty {
  path: string;
  faultType: string | undefined;
}

/** One object of a result. Unset properties are absent from `props`, as they are absent on the wire. */
export interface ObjectContent {
  obj: MoRef;
  props: Map<string, SoapValue>;
  missing: MissingProperty[];
}

export interface RetrieveResult {
  /** Present while more pages wait on the server; pass it to ContinueRetrievePropertiesEx. */
  token: string | undefined;
  objects: ObjectContent[];
}

export interface RetrieveOptions {
  /** Page size hint; the server may return fewer (vCenter caps pages) or ignore it (the simulator). */
  maxObjects?: number;
}

export async function createContainerView(
  client: VimClient,
  container: MoRef,
  types: readonly string[],
  recursive: boolean,
): Promise<MoRef> {
  const response = await client.invoke(
    "CreateContainerView",
    client.serviceContent.viewManager,
    moRefElement("container", container) + types.map((t) => field("type", t)).join("") + field("recursive", recursive),
  );
  const view = child(response, "returnval");
  if (!view) throw new VsphereProtocolError("CreateContainerView: the answer names no view");
  return new MoRef(view.attributes.type ?? "ContainerView", view.text);
}

export async function destroyView(client: VimClient, view: MoRef): Promise<void> {
  await client.invoke("DestroyView", view, "");
}

/** A filter selecting `propSet` on every object of a ContainerView (the view itself skipped). */
export function containerViewFilter(view: MoRef, propSet: readonly PropertySpec[]): PropertyFilterSpec {
  return { propSet, objectSet: [{ obj: view, skip: true, selectSet: [{ type: "ContainerView", path: "view" }] }] };
}

export async function retrievePropertiesEx(
  client: VimClient,
  specSet: readonly PropertyFilterSpec[],
  options: RetrieveOptions = {},
): Promise<RetrieveResult> {
  const response = await client.invoke(
    "RetrievePropertiesEx",
    client.serviceContent.propertyCollector,
    `${specSet.map(filterSpecXml).join("")}<options>${field("maxObjects", options.maxObjects)}</options>`,
  );
  return readResult(response);
}

export async function continueRetrievePropertiesEx(client: VimClient, token: string): Promise<RetrieveResult> {
  const response = await client.invoke(
    "ContinueRetrievePropertiesEx",
    client.serviceContent.propertyCollector,
    field("token", token),
  );
  return readResult(response);
}

/**
 * Yields each page of a retrieval: RetrievePropertiesEx, then ContinueRetrievePropertiesEx while the server hands
 * out a token. One request per page; a result without a token is the last page (servers that do not page at all,
 * like govmomi's simulator, answer everything in that first page).
 */
export async function* retrievePages(
  client: VimClient,
  specSet: readonly PropertyFilterSpec[],
  options: RetrieveOptions = {},
): AsyncGenerator<ObjectContent[]> {
  let result = await retrievePropertiesEx(client, specSet, options);
  yield result.objects;
  while (result.token !== undefined) {
    result = await continueRetrievePropertiesEx(client, result.token);
    yield result.objects;
  }
}

export async function retrieveAll(
  client: VimClient,
  specSet: readonly PropertyFilterSpec[],
  options: RetrieveOptions = {},
): Promise<ObjectContent[]> {
  const all: ObjectContent[] = [];
  for await (const page of retrievePages(client, specSet, options)) for (const o of page) all.push(o);
  return all;
}

function filterSpecXml(spec: PropertyFilterSpec): string {
  const propSet = spec.propSet
    .map(
      (p) =>
        `<propSet>${field("type", p.type)}${field("all", p.all)}${(p.pathSet ?? []).map((path) => field("pathSet", path)).join("")}</propSet>`,
    )
    .join("");
  const objectSet = spec.objectSet
    .map(
      (o) =>
        `<objectSet>${moRefElement("obj", o.obj)}${field("skip", o.skip)}${(o.selectSet ?? [])
          .map((t) =>
            typedElement(
              "selectSet",
              "TraversalSpec",
              field("type", t.type) + field("path", t.path) + field("skip", t.skip),
            ),
          )
          .join("")}</objectSet>`,
    )
    .join("");
  return `<specSet>${propSet}${objectSet}</specSet>`;
}

function readResult(response: XmlElement): RetrieveResult {
  const result = child(response, "returnval");
  if (!result) return { token: undefined, objects: [] };
  let token: string | undefined;
  const objects: ObjectContent[] = [];
  for (const element of result.children) {
    if (element.name === "token") token = element.text;
    else if (element.name === "objects") objects.push(readObject(element));
  }
  return { token: token === "" ? undefined : token, objects };
}

function readObject(element: XmlElement): ObjectContent {
  let obj: MoRef | undefined;
  const props = new Map<string, SoapValue>();
  const missing: MissingProperty[] = [];
  for (const part of element.children) {
    if (part.name === "obj") obj = new MoRef(part.attributes.type ?? "", part.text);
    else if (part.name === "propSet") {
      const name = childText(part, "name");
      const val = child(part, "val");
      if (name !== undefined && val !== undefined) props.set(name, decodeValue(val));
    } else if (part.name === "missingSet") {
      const fault = child(part, "fault");
      const inner = fault && child(fault, "fault");
      missing.push({ path: childText(part, "path") ?? "", faultType: inner?.xsiType });
    }
  }
  if (!obj) throw new VsphereProtocolError("RetrievePropertiesEx: an object in the answer has no obj reference");
  return { obj, props, missing };
}

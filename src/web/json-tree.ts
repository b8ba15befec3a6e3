import { truncate } from "./components.js";
import { html, type SafeHtml } from "./html.js";

export interface TreeOptions {
  /** Containers at a depth below this start expanded. */
  openDepth: number;
  /** Rendering stops after this many nodes so a huge document cannot make a huge page. */
  maxNodes: number;
  /** Longer strings are cut, the full text kept in the title. */
  maxString: number;
}

export const DEFAULT_TREE_OPTIONS: TreeOptions = { openDepth: 2, maxNodes: 5000, maxString: 500 };

export interface Tree {
  markup: SafeHtml;
  nodes: number;
  cut: boolean;
}

function scalar(value: unknown, maxString: number): SafeHtml {
  if (value === null) return html`<span class="j-null">null</span>`;
  switch (typeof value) {
    case "string": {
      const text = JSON.stringify(value);
      const shown = truncate(text, maxString);
      return html`<span class="j-string"${shown === text ? "" : html` title="${value}"`}>${shown}</span>`;
    }
    case "number":
      return html`<span class="j-number">${String(value)}</span>`;
    case "boolean":
      return html`<span class="j-boolean">${String(value)}</span>`;
    default:
      return html`<span class="j-other">${String(value)}</span>`;
  }
}

// Array elements are listed by index; one of these fields, when present, tells which element it is.
const IDENTITY_FIELDS = ["id", "name", "ui_name", "server", "key"];

function identity(value: object): string | undefined {
  if (Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  for (const field of IDENTITY_FIELDS) {
    const v = record[field];
    if (typeof v === "string" || typeof v === "number") return String(v);
  }
  return undefined;
}

/** A JSON document as nested <details>, so it can be browsed without any script. */
export function jsonTree(document: unknown, options: TreeOptions = DEFAULT_TREE_OPTIONS): Tree {
  let nodes = 0;
  let cut = false;

  const children = (value: object): [string, unknown][] =>
    Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);

  const node = (key: string, value: unknown, depth: number, inArray = false): SafeHtml => {
    if (nodes >= options.maxNodes) {
      cut = true;
      return html``;
    }
    nodes++;
    const label = html`<span class="j-key">${key}</span>`;
    if (value === null || typeof value !== "object") {
      return html`<li class="j-leaf">${label}<span class="j-colon">:</span> ${scalar(value, options.maxString)}</li>`;
    }
    const entries = children(value);
    const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) {
      return html`<li class="j-leaf">${label}<span class="j-colon">:</span> <span class="j-empty">${open}${close}</span></li>`;
    }
    const hint = inArray ? identity(value) : undefined;
    return html`<li><details${depth < options.openDepth ? html` open` : ""}>
      <summary>${label} <span class="j-count">${open}${entries.length}${close}</span>${hint !== undefined && html` <span class="j-hint">${truncate(hint, 80)}</span>`}</summary>
      <ul>${entries.map(([k, v]) => node(k, v, depth + 1, Array.isArray(value)))}</ul>
    </details></li>`;
  };

  const top =
    document !== null && typeof document === "object"
      ? children(document).map(([k, v]) => node(k, v, 0))
      : [node("value", document, 0)];
  return { markup: html`<ul class="json-tree">${top}</ul>`, nodes, cut };
}

import { describe, expect, it } from "vitest";
import { escapeHtml, html, raw, SafeHtml } from "../../src/web/html.js";
import { jsonTree } from "../../src/web/json-tree.js";

describe("html tagged template", () => {
  it("escapes interpolated strings in content and attributes", () => {
    const name = `<img src=x onerror="alert('x')">`;
    const out = html`<a title="${name}">${name}</a>`.value;
    expect(out).toBe(
      '<a title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;</a>',
    );
    expect(out).not.toContain("<img");
  });

  it("escapes ampersands first so entities are not double-decoded", () => {
    expect(escapeHtml("&lt;script&gt;")).toBe("&amp;lt;script&amp;gt;");
  });

  it("escapes backticks and single quotes", () => {
    expect(escapeHtml("`x` 'y'")).toBe("&#96;x&#96; &#39;y&#39;");
  });

  it("keeps SafeHtml from nested templates and raw() unescaped", () => {
    const inner = html`<b>${"<i>"}</b>`;
    expect(html`<p>${inner}${raw("<br>")}</p>`.value).toBe("<p><b>&lt;i&gt;</b><br></p>");
  });

  it("joins arrays and escapes each element", () => {
    const items = ["<a>", html`<li>ok</li>`, ["&", "b"]];
    expect(html`<ul>${items}</ul>`.value).toBe("<ul>&lt;a&gt;<li>ok</li>&amp;b</ul>");
  });

  it("renders nothing for false, null and undefined, and numbers as text", () => {
    const flag = false;
    expect(html`[${flag && html`<x>`}${null}${undefined}${0}${12.5}${10n}]`.value).toBe("[012.510]");
  });

  it("treats an object pretending to be SafeHtml as text", () => {
    const fake = { value: "<script>", toString: () => "<script>" } as unknown as string;
    expect(html`${fake}`.value).toBe("&lt;script&gt;");
    expect(html`x` instanceof SafeHtml).toBe(true);
  });
});

describe("jsonTree", () => {
  it("escapes keys and string values from the document", () => {
    const { markup } = jsonTree({ "<k>": "</span><script>alert(1)</script>" });
    expect(markup.value).not.toContain("<script>");
    expect(markup.value).toContain("&lt;k&gt;");
    expect(markup.value).toContain("&lt;/span&gt;&lt;script&gt;");
  });

  it("opens the top levels only and stops at the node cap", () => {
    const doc = { a: { b: { c: { d: 1 } } }, list: Array.from({ length: 50 }, (_, i) => i) };
    const full = jsonTree(doc, { openDepth: 2, maxNodes: 1000, maxString: 100 });
    expect(full.markup.value.match(/<details open>/g)).toHaveLength(3);
    expect(full.cut).toBe(false);
    const capped = jsonTree(doc, { openDepth: 2, maxNodes: 10, maxString: 100 });
    expect(capped.cut).toBe(true);
    expect(capped.nodes).toBe(10);
  });
});

import type { TokenIdentity } from "../auth/tokens.js";
import { type AssetName, assetUrl } from "./assets.js";
import { html, type SafeHtml } from "./html.js";

export interface NavItem {
  /** What a page passes as `active` to highlight its entry. */
  id: string;
  label: string;
  href: string;
}

/** The top navigation. A new capability page adds its entry here and passes the same id to `layout`. */
export const NAV: readonly NavItem[] = [
  { id: "systems", label: "Systems", href: "/systems" },
  { id: "hosts", label: "Hosts", href: "/hosts" },
  { id: "alerts", label: "Alerts", href: "/alerts" },
  { id: "jobs", label: "Jobs", href: "/jobs" },
  { id: "vcenters", label: "vCenter", href: "/vcenters" },
  { id: "billing", label: "Billing", href: "/billing" },
  { id: "docs", label: "API docs", href: "/docs" },
];

export interface LayoutOptions {
  /** The signed-in token; without one the header offers a login link instead of a logout button. */
  user?: TokenIdentity | undefined;
  /** The login page hides navigation that would only lead back to it. */
  bare?: boolean;
  /** Page-specific scripts and styles, loaded after the shared ones. */
  assets?: AssetName[];
}

// htmx must not inject its indicator <style> (the CSP forbids inline styles), and a history restore must ask
// for the full page rather than the fragment that HX-Request would select.
const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, historyRestoreAsHxRequest: false });

function assetTag(name: AssetName): SafeHtml {
  return name.endsWith(".css")
    ? html`<link rel="stylesheet" href="${assetUrl(name)}">`
    : html`<script defer src="${assetUrl(name)}"></script>`;
}

function account(user: TokenIdentity | undefined): SafeHtml {
  if (!user) return html`<a class="account-link" href="/login">Log in</a>`;
  return html`<form class="account" method="post" action="/logout">
      <span class="who" title="API token ${user.id}">${user.name} <span class="role">${user.role}</span></span>
      <button type="submit" class="link-button">Log out</button>
    </form>`;
}

export function layout(title: string, body: SafeHtml, active: string, options: LayoutOptions = {}): SafeHtml {
  const nav = options.bare
    ? ""
    : html`<nav class="nav" aria-label="Main">
        ${NAV.map(
          (item) =>
            html`<a href="${item.href}"${item.id === active ? html` class="active" aria-current="page"` : ""}>${item.label}</a>`,
        )}
      </nav>
      ${account(options.user)}`;
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="htmx-config" content="${HTMX_CONFIG}">
  <title>${title} · Fleetledger</title>
  <link rel="icon" type="image/svg+xml" href="${assetUrl("favicon.svg")}">
  <link rel="stylesheet" href="${assetUrl("app.css")}">
  <script defer src="${assetUrl("htmx.min.js")}"></script>
  ${(options.assets ?? []).map(assetTag)}
</head>
<body>
  <header class="topbar">
    <a class="brand" href="/">Fleetledger</a>
    ${nav}
  </header>
  <main class="page">
${body}
  </main>
</body>
</html>
`;
}

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { FastifyPluginAsync } from "fastify";

export interface Asset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
  /** Path with a content hash in the query, so a new release busts the year-long browser cache. */
  url: string;
}

const require = createRequire(import.meta.url);

// Vendored from node_modules rather than a CDN: the dashboard must work offline and its scripts are pinned by npm.
const SOURCES = {
  "htmx.min.js": { file: require.resolve("htmx.org/dist/htmx.min.js"), type: "text/javascript; charset=utf-8" },
  "uPlot.min.js": { file: require.resolve("uplot/dist/uPlot.iife.min.js"), type: "text/javascript; charset=utf-8" },
  "uPlot.min.css": { file: require.resolve("uplot/dist/uPlot.min.css"), type: "text/css; charset=utf-8" },
  "app.css": { file: fileURLToPath(new URL("./static/app.css", import.meta.url)), type: "text/css; charset=utf-8" },
  "favicon.svg": { file: fileURLToPath(new URL("./static/favicon.svg", import.meta.url)), type: "image/svg+xml" },
  "charts.js": {
    file: fileURLToPath(new URL("./static/charts.js", import.meta.url)),
    type: "text/javascript; charset=utf-8",
  },
  "hosts.js": {
    file: fileURLToPath(new URL("./static/hosts.js", import.meta.url)),
    type: "text/javascript; charset=utf-8",
  },
} satisfies Record<string, { file: string; type: string }>;

function load(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, { file, type }] of Object.entries(SOURCES)) {
    const body = readFileSync(file);
    const version = createHash("sha256").update(body).digest("hex").slice(0, 12);
    assets.set(name, { body, gzipped: gzipSync(body), type, url: `/static/${name}?v=${version}` });
  }
  return assets;
}

const ASSETS = load();

export type AssetName = keyof typeof SOURCES;

export function assetUrl(name: AssetName): string {
  const asset = ASSETS.get(name);
  if (!asset) throw new Error(`unknown static asset ${name}`);
  return asset.url;
}

export const staticRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { name: string } }>("/static/:name", { schema: { hide: true } }, async (request, reply) => {
    const asset = ASSETS.get(request.params.name);
    if (!asset) return reply.code(404).type("text/plain; charset=utf-8").send("not found");
    const gzip = /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
    reply
      .type(asset.type)
      .header("Cache-Control", "public, max-age=31536000, immutable")
      .header("Vary", "Accept-Encoding");
    if (gzip) reply.header("Content-Encoding", "gzip");
    return reply.send(gzip ? asset.gzipped : asset.body);
  });
};

import type {} from "@fastify/rate-limit";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import Type from "typebox";
import type { AppContext } from "../app/context.js";
import { parseBasic } from "../auth/system-credentials.js";
import { requireSystem, requireToken } from "../http/auth.js";
import { HttpError } from "../http/errors.js";
import { ErrorBody, errorResponses, Paging } from "../http/schemas.js";
import { parseIsoTime } from "../lib/time.js";
import { getSystem } from "../systems/registry.js";
import { jsonDepth } from "./canonical.js";
import { prepareDocument } from "./ingest.js";
import { latestRecord, listDiffs, listRecords } from "./store.js";

const InventoryBody = Type.Object(
  {
    system_id: Type.Optional(Type.String()),
    timestamp: Type.Optional(Type.String()),
    data: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: true },
);

const Diff = Type.Object({
  id: Type.Integer(),
  record_id: Type.Integer(),
  field_path: Type.String(),
  change_type: Type.String(),
  previous_value: Type.Unknown(),
  current_value: Type.Unknown(),
  category: Type.String(),
  severity: Type.String(),
  significant: Type.Boolean(),
  created_at: Type.String(),
});

export function inventoryRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const inv = ctx.settings.inventory;
    const viewer = requireToken(ctx, "viewer");

    app.post(
      "/api/systems/inventory",
      {
        preHandler: requireSystem(ctx),
        // Refusals are counted here, whichever layer refused (auth, parser, schema, rate limit, back-pressure).
        onResponse: async (_request, reply) => {
          if (reply.statusCode < 400) return;
          const throttled = reply.statusCode === 429 || reply.statusCode === 503;
          ctx.metrics.ingestDocuments.inc({ result: throttled ? "throttled" : "rejected" });
        },
        config:
          inv.rate_limit_per_minute > 0
            ? {
                rateLimit: {
                  max: inv.rate_limit_per_minute,
                  timeWindow: 60_000,
                  // Runs before authentication, so the key comes straight from the Basic header.
                  keyGenerator: (request: FastifyRequest) =>
                    parseBasic(request.headers.authorization)?.user ?? request.ip,
                },
              }
            : {},
        schema: {
          tags: ["push"],
          summary: "Push an inventory document (collect wire format)",
          body: InventoryBody,
          response: {
            202: Type.Object({ id: Type.Integer(), duplicate: Type.Boolean() }),
            ...errorResponses,
            413: ErrorBody,
            429: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const system = request.system;
        if (!system) throw new HttpError(401, "unauthorized", "system credentials required");
        if (request.body.timestamp !== undefined && !parseIsoTime(request.body.timestamp)) {
          throw new HttpError(400, "invalid_request", "timestamp must be an ISO-8601 time");
        }
        if (jsonDepth(request.body.data, inv.max_document_depth) > inv.max_document_depth) {
          throw new HttpError(400, "too_deep", `data is nested deeper than ${inv.max_document_depth} levels`);
        }
        if (ctx.queue.pendingEstimate() > ctx.settings.queue.max_pending) {
          throw new HttpError(503, "busy", "the change queue is full; retry later", { "Retry-After": "5" });
        }
        const started = performance.now();
        const result = await ctx.ingest.submit(prepareDocument(system.id, request.body.data, new Date()));
        ctx.metrics.ingestDuration.observe((performance.now() - started) / 1000);
        ctx.metrics.ingestDocuments.inc({ result: result.duplicate ? "duplicate" : "accepted" });
        if (!result.duplicate) {
          ctx.metrics.ingestBytes.inc(result.size);
          ctx.queue.notify();
        }
        return reply.code(202).send({ id: result.id, duplicate: result.duplicate });
      },
    );

    const SystemParams = Type.Object({ id: Type.String() });
    const systemOr404 = async (id: string) => {
      const system = await getSystem(ctx.database.db, id);
      if (!system) throw new HttpError(404, "not_found", `no system ${id}`);
      return system;
    };

    app.get(
      "/api/systems/:id/inventory/latest",
      {
        preHandler: viewer,
        schema: {
          tags: ["inventory"],
          summary: "Latest stored inventory document of a system",
          params: SystemParams,
          response: {
            200: Type.Object({
              id: Type.Integer(),
              received_at: Type.String(),
              data_hash: Type.String(),
              data: Type.Unknown(),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        await systemOr404(request.params.id);
        const record = await latestRecord(ctx.database.db, request.params.id);
        if (!record) throw new HttpError(404, "not_found", "this system has not sent an inventory yet");
        return {
          id: record.id,
          received_at: record.received_at,
          data_hash: record.data_hash,
          data: JSON.parse(record.data),
        };
      },
    );

    app.get(
      "/api/systems/:id/inventory/records",
      {
        preHandler: viewer,
        schema: {
          tags: ["inventory"],
          summary: "Stored records of a system, newest first",
          params: SystemParams,
          querystring: Type.Object(Paging),
          response: {
            200: Type.Array(
              Type.Object({
                id: Type.Integer(),
                received_at: Type.String(),
                data_hash: Type.String(),
                data_size: Type.Integer(),
                change_count: Type.Integer(),
              }),
            ),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        await systemOr404(request.params.id);
        return listRecords(ctx.database.db, request.params.id, request.query.limit ?? 100, request.query.offset ?? 0);
      },
    );

    app.get(
      "/api/systems/:id/inventory/diffs",
      {
        preHandler: viewer,
        schema: {
          tags: ["inventory"],
          summary: "Changes of a system, newest first",
          params: SystemParams,
          querystring: Type.Object({
            category: Type.Optional(Type.String()),
            severity: Type.Optional(Type.Union(["critical", "high", "medium", "low"].map((s) => Type.Literal(s)))),
            since: Type.Optional(Type.String({ description: "ISO-8601 time; changes received at or after it" })),
            significant: Type.Optional(Type.Boolean()),
            record_id: Type.Optional(Type.Integer()),
            ...Paging,
          }),
          response: { 200: Type.Array(Diff), ...errorResponses },
        },
      },
      async (request) => {
        await systemOr404(request.params.id);
        const q = request.query;
        const since = q.since === undefined ? undefined : parseIsoTime(q.since);
        if (q.since !== undefined && !since)
          throw new HttpError(400, "invalid_request", "since must be an ISO-8601 time");
        return listDiffs(ctx.database.db, request.params.id, {
          category: q.category,
          severity: q.severity,
          since: since?.toISOString(),
          significant: q.significant,
          record_id: q.record_id,
          limit: q.limit ?? 100,
          offset: q.offset ?? 0,
        });
      },
    );
  };
}

import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { AppContext } from "../app/context.js";
import { requireToken } from "../http/auth.js";
import { errorResponses, Paging } from "../http/schemas.js";
import { listAlerts } from "./store.js";

export function alertRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/api/alerts",
      {
        preHandler: requireToken(ctx, "viewer"),
        schema: {
          tags: ["alerts"],
          summary: "Alerts (LinkFailed, inventory changes), newest first",
          querystring: Type.Object({
            status: Type.Optional(Type.Union([Type.Literal("firing"), Type.Literal("resolved")])),
            system_id: Type.Optional(Type.String()),
            ...Paging,
          }),
          response: {
            200: Type.Array(
              Type.Object({
                id: Type.Integer(),
                labels: Type.Record(Type.String(), Type.String()),
                annotations: Type.Record(Type.String(), Type.String()),
                starts_at: Type.String(),
                ends_at: Type.String(),
                status: Type.Union([Type.Literal("firing"), Type.Literal("resolved")]),
              }),
            ),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        listAlerts(
          ctx.database.db,
          {
            status: request.query.status,
            system_id: request.query.system_id,
            limit: request.query.limit ?? 100,
            offset: request.query.offset ?? 0,
          },
          new Date(),
        ),
    );
  };
}

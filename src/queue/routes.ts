import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { AppContext } from "../app/context.js";
import { requireToken } from "../http/auth.js";
import { HttpError } from "../http/errors.js";
import { errorResponses, Paging } from "../http/schemas.js";

export function queueRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/api/jobs",
      {
        preHandler: requireToken(ctx, "viewer"),
        schema: {
          tags: ["jobs"],
          summary: "Queue depth and lag per queue",
          response: {
            200: Type.Array(
              Type.Object({
                queue: Type.String(),
                pending: Type.Integer(),
                dead: Type.Integer(),
                lag_seconds: Type.Number(),
              }),
            ),
            ...errorResponses,
          },
        },
      },
      async () => ctx.queue.depth(),
    );

    app.get(
      "/api/jobs/dead",
      {
        preHandler: requireToken(ctx, "viewer"),
        schema: {
          tags: ["jobs"],
          summary: "Dead letters: jobs that failed every attempt",
          querystring: Type.Object(Paging),
          response: {
            200: Type.Array(
              Type.Object({
                id: Type.Integer(),
                queue: Type.String(),
                payload: Type.Unknown(),
                attempts: Type.Integer(),
                last_error: Type.Union([Type.String(), Type.Null()]),
                created_at: Type.String(),
                failed_at: Type.String(),
              }),
            ),
            ...errorResponses,
          },
        },
      },
      async (request) => ctx.queue.listDead(request.query.limit ?? 100, request.query.offset ?? 0),
    );

    app.post(
      "/api/jobs/dead/:id/retry",
      {
        preHandler: requireToken(ctx, "admin"),
        schema: {
          tags: ["jobs"],
          summary: "Put a dead letter back in its queue with fresh attempts",
          params: Type.Object({ id: Type.Integer() }),
          response: { 202: Type.Object({ id: Type.Integer(), status: Type.String() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        if (!(await ctx.queue.retryDead(request.params.id))) {
          throw new HttpError(404, "not_found", `no dead job ${request.params.id}`);
        }
        return reply.code(202).send({ id: request.params.id, status: "pending" });
      },
    );
  };
}

import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { AppContext } from "../app/context.js";
import { requireSystem, requireToken } from "../http/auth.js";
import { HttpError } from "../http/errors.js";
import { ErrorBody, errorResponses, Paging } from "../http/schemas.js";
import { recordHeartbeat } from "./heartbeat.js";
import {
  ConflictError,
  createOrganization,
  createSystem,
  getSystem,
  listOrganizations,
  listSystems,
  NotFoundError,
} from "./registry.js";

const Status = Type.Union([Type.Literal("unknown"), Type.Literal("active"), Type.Literal("inactive")]);
const SystemSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  org_id: Type.String(),
  system_key: Type.String(),
  status: Status,
  last_heartbeat_at: Type.Union([Type.String(), Type.Null()]),
  last_inventory_at: Type.Union([Type.String(), Type.Null()]),
});

function translate(err: unknown): never {
  if (err instanceof NotFoundError) throw new HttpError(404, "not_found", err.message);
  if (err instanceof ConflictError) throw new HttpError(409, "conflict", err.message);
  throw err;
}

export function systemRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const db = ctx.database.db;
    const viewer = requireToken(ctx, "viewer");
    const admin = requireToken(ctx, "admin");

    app.post(
      "/api/systems/heartbeat",
      {
        preHandler: requireSystem(ctx),
        schema: {
          tags: ["push"],
          summary: "Heartbeat of the authenticated system",
          response: { 200: Type.Object({ status: Type.String() }), 401: ErrorBody },
        },
      },
      async (request) => {
        await recordHeartbeat(db, request.system?.id as string, new Date());
        ctx.metrics.heartbeats.inc();
        return { status: "ok" };
      },
    );

    app.get(
      "/api/systems",
      {
        preHandler: viewer,
        schema: {
          tags: ["systems"],
          summary: "Registered systems",
          querystring: Type.Object({ org: Type.Optional(Type.String()), status: Type.Optional(Status), ...Paging }),
          response: { 200: Type.Array(SystemSummary), ...errorResponses },
        },
      },
      async (request) =>
        listSystems(db, {
          org: request.query.org,
          status: request.query.status,
          limit: request.query.limit ?? 100,
          offset: request.query.offset ?? 0,
        }),
    );

    app.get(
      "/api/systems/:id",
      {
        preHandler: viewer,
        schema: {
          tags: ["systems"],
          params: Type.Object({ id: Type.String() }),
          response: { 200: SystemSummary, ...errorResponses },
        },
      },
      async (request) => {
        const system = await getSystem(db, request.params.id);
        if (!system) throw new HttpError(404, "not_found", `no system ${request.params.id}`);
        return system;
      },
    );

    app.post(
      "/api/systems",
      {
        preHandler: admin,
        schema: {
          tags: ["systems"],
          summary: "Register a system; the secret is shown only in this answer",
          body: Type.Object({ org: Type.String(), name: Type.String({ minLength: 1 }) }),
          response: {
            201: Type.Object({ id: Type.String(), system_key: Type.String(), system_secret: Type.String() }),
            ...errorResponses,
            409: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const created = await createSystem(db, request.body.org, request.body.name).catch(translate);
        return reply.code(201).send(created);
      },
    );

    app.get(
      "/api/organizations",
      {
        preHandler: viewer,
        schema: {
          tags: ["systems"],
          response: { 200: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })), ...errorResponses },
        },
      },
      async () => listOrganizations(db),
    );

    app.post(
      "/api/organizations",
      {
        preHandler: admin,
        schema: {
          tags: ["systems"],
          body: Type.Object({ name: Type.String({ minLength: 1 }) }),
          response: { 201: Type.Object({ id: Type.String(), name: Type.String() }), ...errorResponses, 409: ErrorBody },
        },
      },
      async (request, reply) => reply.code(201).send(await createOrganization(db, request.body.name).catch(translate)),
    );
  };
}

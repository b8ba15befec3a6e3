import { readFileSync } from "node:fs";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import websocket from "@fastify/websocket";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { sql } from "kysely";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { alertRoutes } from "../alerts/routes.js";
import { commandRoutes } from "../commands/routes.js";
import { installErrorHandling, sendError } from "../http/errors.js";
import { installJsonParser } from "../http/json-body.js";
import { inventoryRoutes } from "../inventory/routes.js";
import { queueRoutes } from "../queue/routes.js";
import { systemRoutes } from "../systems/routes.js";
import { telemetryRoutes } from "../telemetry/routes.js";
import { billingRoutes } from "../cloudfoundry/routes.js";
import { vsphereRoutes } from "../vsphere/routes.js";
import { reportWriter } from "../vsphere/reports.js";
import { webRoutes } from "../web/routes.js";
import type { AppContext } from "./context.js";
import { startSchedules } from "./scheduler.js";

export const VERSION = "0.1.0";

export async function buildServer(ctx: AppContext): Promise<FastifyInstance> {
  const tls = ctx.settings.settings;
  const app = Fastify({
    ...(tls.bind_disable_tls
      ? {}
      : { https: { cert: readFileSync(tls.tls_cert_filename), key: readFileSync(tls.tls_key_filename) } }),
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: ctx.settings.server.body_limit_bytes,
    // Per-request log lines at thousands of pushes a second would drown everything else; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false, useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installErrorHandling(app);
  installJsonParser(app);
  await app.register(cookie);
  await app.register(formbody);
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      error: "too_many_requests",
      message: `rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: "Fleetledger API", version: VERSION },
      components: {
        securitySchemes: {
          system: { type: "http", scheme: "basic", description: "system_key:system_secret" },
          token: { type: "http", scheme: "bearer", description: "API token from `fleetledger token create`" },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  // Command replies are a few kilobytes; the cap keeps one agent from making the server buffer megabytes.
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });

  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    try {
      await sql`select 1`.execute(ctx.database.db);
      return { status: "ready", database: ctx.database.location };
    } catch (err) {
      return sendError(reply, 503, "not_ready", `database unavailable: ${(err as Error).message}`);
    }
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  await app.register(systemRoutes(ctx));
  await app.register(inventoryRoutes(ctx));
  await app.register(telemetryRoutes(ctx));
  await app.register(alertRoutes(ctx));
  await app.register(queueRoutes(ctx));
  await app.register(vsphereRoutes(ctx, reportWriter(ctx)));
  await app.register(billingRoutes(ctx));
  await app.register(commandRoutes(ctx));
  await app.register(webRoutes(ctx));
  return app;
}

/** The embedded mode: HTTP server plus, unless disabled, queue workers and schedules in the same process. */
export async function startServer(ctx: AppContext, port: number, host: string) {
  const app = await buildServer(ctx);
  let schedules: { stop(): Promise<void> } | undefined;
  if (ctx.settings.server.worker) {
    ctx.queue.start();
    schedules = startSchedules(ctx);
  }
  app.addHook("onClose", async () => {
    await schedules?.stop();
    await ctx.close();
  });
  const address = await app.listen({ port, host });
  return { app, address };
}

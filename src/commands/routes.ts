import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply } from "fastify";
import Type from "typebox";
import type { AppContext } from "../app/context.js";
import { verifyClientToken } from "../auth/client-token.js";
import { requireToken } from "../http/auth.js";
import { HttpError } from "../http/errors.js";
import { errorResponses } from "../http/schemas.js";
import { listAudit } from "./audit.js";
import { CLOSE_UNAUTHORIZED } from "./hub.js";
import { COMMAND_TYPES, FAN_MODES } from "./protocol.js";
import { type CommandCall, InvalidCommandError, runCommand, UnknownSystemError } from "./service.js";

const MAX_TIMEOUT_SECONDS = 600;

const CommandBody = Type.Object(
  {
    system_id: Type.String({ minLength: 1 }),
    command_type: Type.Union(COMMAND_TYPES.map((type) => Type.Literal(type))),
    command_data: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description:
            'fan_control: {"mode": "standard|full_speed|optimal|heavy_io"} or {"zone": 0-255, "percent": 0-100}; ' +
            'ipmi_raw: {"args": ["0x30", "0x45", "0x00"]}; system_info: {}',
        },
      ),
    ),
    timeout_seconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: MAX_TIMEOUT_SECONDS,
        description: "How long to wait for the agent; telemetry.command_timeout_seconds when absent.",
      }),
    ),
  },
  { additionalProperties: false },
);

const Completed = Type.Object({
  id: Type.String(),
  system_id: Type.String(),
  command_type: Type.String(),
  status: Type.Literal("completed"),
  result: Type.Object({}, { additionalProperties: true }),
});

// Failures keep the house error shape and add which command they are about.
const Failed = Type.Object({
  error: Type.String(),
  message: Type.String(),
  id: Type.String(),
  system_id: Type.String(),
  command_type: Type.String(),
  status: Type.Union([Type.Literal("error"), Type.Literal("timeout"), Type.Literal("refused")]),
});

const commandResponses = { 200: Completed, ...errorResponses, 409: Failed, 502: Failed, 504: Failed };

const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  system_id: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Unknown(),
  outcome: Type.String(),
  result: Type.Unknown(),
});

const FAILURE = {
  refused: { status: 409, error: "not_connected" },
  error: { status: 502, error: "agent_error" },
  timeout: { status: 504, error: "timeout" },
} as const;

function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
}

export function commandRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const admin = requireToken(ctx, "admin");

    async function execute(reply: FastifyReply, actor: { id: string; name: string }, call: CommandCall) {
      let outcome: Awaited<ReturnType<typeof runCommand>>;
      try {
        outcome = await runCommand(ctx, actor, call);
      } catch (err) {
        if (err instanceof InvalidCommandError) throw new HttpError(400, "invalid_request", err.message);
        if (err instanceof UnknownSystemError) throw new HttpError(404, "not_found", err.message);
        throw err;
      }
      if (outcome.status === "completed") return outcome;
      const failure = FAILURE[outcome.status];
      const { error, ...command } = outcome;
      return reply.code(failure.status).send({ error: failure.error, message: error, ...command });
    }

    // Only the Authorization header is accepted, never a token in the query string, which proxies and access logs
    // keep. Agents are our own code and always can set the header.
    app.get("/ws/agent", { websocket: true, schema: { hide: true } }, (socket, request) => {
      verifyClientToken(ctx.systems, bearerToken(request.headers.authorization)).then(
        (system) => {
          if (!system) {
            request.log.warn({ ip: request.ip }, "refused an agent command socket without valid credentials");
            socket.close(CLOSE_UNAUTHORIZED, "a valid agent token is required (Authorization: Bearer flc_...)");
            return;
          }
          // The agent only ever answers, so nothing it could send before this point is lost.
          if (socket.readyState === socket.OPEN) ctx.commands.attach(system.id, socket);
        },
        (err: unknown) => {
          request.log.error({ err }, "authenticating an agent command socket failed");
          socket.close(1011, "authentication failed on the server");
        },
      );
    });

    app.post(
      "/api/commands",
      {
        preHandler: admin,
        schema: {
          tags: ["commands"],
          summary: "Run a command on a system's connected agent and wait for its answer",
          body: CommandBody,
          response: commandResponses,
        },
      },
      async (request, reply) =>
        execute(reply, request.token as { id: string; name: string }, {
          ...request.body,
          command_data: request.body.command_data ?? {},
        }),
    );

    // dcmon's shortcut for the most common command.
    app.post(
      "/api/clients/:id/command/fan-mode",
      {
        preHandler: admin,
        schema: {
          tags: ["commands"],
          summary: "Set the BMC fan mode of a system (fan_control with a mode)",
          params: Type.Object({ id: Type.String() }),
          body: Type.Object(
            {
              mode: Type.Union(Object.keys(FAN_MODES).map((mode) => Type.Literal(mode))),
              timeout_seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_TIMEOUT_SECONDS })),
            },
            { additionalProperties: false },
          ),
          response: commandResponses,
        },
      },
      async (request, reply) =>
        execute(reply, request.token as { id: string; name: string }, {
          system_id: request.params.id,
          command_type: "fan_control",
          command_data: { mode: request.body.mode },
          timeout_seconds: request.body.timeout_seconds,
        }),
    );

    app.get(
      "/api/audit",
      {
        preHandler: admin,
        schema: {
          tags: ["commands"],
          summary: "Audit log of remote commands, newest first",
          querystring: Type.Object({
            system_id: Type.Optional(Type.String()),
            action: Type.Optional(Type.String()),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            before_id: Type.Optional(Type.Integer({ minimum: 1 })),
          }),
          response: {
            200: Type.Object({
              entries: Type.Array(AuditEntry),
              next_before_id: Type.Union([Type.Integer(), Type.Null()]),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        listAudit(ctx.database.db, {
          system_id: request.query.system_id,
          action: request.query.action,
          limit: request.query.limit ?? 100,
          before_id: request.query.before_id,
        }),
    );
  };
}

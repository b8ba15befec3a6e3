import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import Type from "typebox";
import type { AppContext } from "../app/context.js";
import { verifyClientToken } from "../auth/client-token.js";
import { requireToken } from "../http/auth.js";
import { HttpError } from "../http/errors.js";
import { ErrorBody, errorResponses } from "../http/schemas.js";
import { BatchRefused, SEVERITIES, type Severity, validateBatch } from "./batch.js";
import { registerClient, signatureProblem, UnknownOrganization } from "./clients.js";
import { TelemetryIngest } from "./ingest.js";
import { inProcessWriter, type MetricWriter, ThreadedWriter } from "./ingest-writer.js";
import { searchLogs } from "./logs.js";
import { runTimeseriesQuery } from "./query.js";
import { parseTimeseriesQuery, QueryParamError } from "./query-params.js";

const DAY_MS = 86_400_000;

const RegisterBody = Type.Object(
  {
    hostname: Type.String({ minLength: 1, maxLength: 253 }),
    org: Type.Optional(Type.String({ minLength: 1, description: "Organization id or name" })),
    machine_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    hw_hash: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    agent_version: Type.Optional(Type.String({ maxLength: 100 })),
    public_key: Type.Optional(Type.String({ maxLength: 16_384, description: "dcmon: PEM RSA public key" })),
    signature: Type.Optional(Type.String({ maxLength: 4096, description: "dcmon: base64 RSA-PSS/SHA-256" })),
    timestamp: Type.Optional(Type.Number({ description: "dcmon: unix seconds of the signature" })),
    challenge: Type.Optional(Type.String({ maxLength: 1024, description: "dcmon: signed text ending :<timestamp>" })),
  },
  // dcmon clients also send hardware facts (cpu_name, drives, …); those arrive with the inventory push instead.
  { additionalProperties: true },
);

const Rejection = Type.Object({ index: Type.Integer(), reason: Type.String() });
const MetricsAnswer = Type.Object({
  received: Type.Integer(),
  inserted: Type.Integer(),
  logs_received: Type.Integer(),
  logs_inserted: Type.Integer(),
  rejected: Type.Array(Rejection),
  logs_rejected: Type.Array(Rejection),
});

// window and fn are known on both routes so that using them on the plain one gets its own explanation.
const TIMESERIES_PARAMS = new Set(["since", "until", "step", "aggregation", "systems", "labels", "window", "fn"]);
const LOG_PARAMS = new Set(["systems", "source", "severity", "q", "since", "until", "limit", "before_id"]);

/** The query string as single strings; a repeated or unknown parameter is a 400 naming it. */
function singleParams(query: unknown, allowed: Set<string>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (!allowed.has(name)) {
      throw new HttpError(400, "invalid_request", `unknown parameter ${name}; known: ${[...allowed].join(", ")}`);
    }
    if (typeof value !== "string") throw new HttpError(400, "invalid_request", `${name} is given more than once`);
    out[name] = value;
  }
  return out;
}

function commaList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return items.length > 0 ? items : undefined;
}

export function telemetryRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const t = ctx.settings.telemetry;
    const counters = ctx.metrics.telemetry;
    const sqliteFile = ctx.database.dialect === "sqlite" && !ctx.database.location.endsWith(":memory:");
    const ingest: MetricWriter =
      t.writer_thread && sqliteFile
        ? new ThreadedWriter(
            { url: ctx.database.location, maxSeriesPerSystem: t.max_series_per_system },
            ctx.log.child({ component: "telemetry" }),
          )
        : inProcessWriter(
            new TelemetryIngest({
              db: ctx.database.db,
              dialect: ctx.database.dialect,
              maxSeriesPerSystem: t.max_series_per_system,
            }),
          );
    app.addHook("onClose", () => ingest.close());
    const viewer = requireToken(ctx, "viewer");
    const retention = { metricsDays: t.metrics_days, rollup5mDays: t.rollup_5m_days };

    const requireClient = async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization;
      const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
      if (!token) {
        reply.header("WWW-Authenticate", 'Bearer realm="fleetledger"');
        throw new HttpError(401, "unauthorized", "an agent token is required (Authorization: Bearer flc_…)");
      }
      const system = await verifyClientToken(ctx.systems, token);
      if (!system) throw new HttpError(401, "unauthorized", "invalid agent token");
      request.system = system;
    };

    app.post(
      "/api/clients/register",
      {
        preHandler: requireToken(ctx, "enroll"),
        schema: {
          tags: ["telemetry"],
          summary: "Register an agent (dcmon client registration); the secret is shown only in this answer",
          security: [{ token: [] }],
          body: RegisterBody,
          response: {
            201: Type.Object({
              client_id: Type.String(),
              client_token: Type.String(),
              system_key: Type.String(),
              system_secret: Type.String(),
            }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const signed = [body.public_key, body.signature, body.timestamp];
        if (signed.some((v) => v !== undefined)) {
          if (body.public_key === undefined || body.signature === undefined || body.timestamp === undefined) {
            throw new HttpError(400, "invalid_signature", "public_key, signature and timestamp go together");
          }
          const problem = signatureProblem(
            {
              hostname: body.hostname,
              public_key: body.public_key,
              signature: body.signature,
              timestamp: body.timestamp,
              challenge: body.challenge,
            },
            Date.now() / 1000,
          );
          if (problem) throw new HttpError(400, "invalid_signature", problem);
        }
        try {
          const { reused, ...registered } = await registerClient(
            ctx.database.db,
            {
              hostname: body.hostname,
              org: body.org,
              machine_id: body.machine_id,
              hw_hash: body.hw_hash ?? undefined,
              agent_version: body.agent_version,
            },
            t.default_org,
          );
          // This process forgets the old secret at once; other server processes keep it for at most
          // auth.credential_cache_seconds.
          if (reused) ctx.systems.forget(registered.system_key);
          request.log.info({ system_id: registered.client_id, hostname: body.hostname, reused }, "agent registered");
          return reply.code(201).send(registered);
        } catch (err) {
          if (err instanceof UnknownOrganization) throw new HttpError(400, "unknown_organization", err.message);
          throw err;
        }
      },
    );

    app.post(
      "/api/metrics",
      {
        preHandler: requireClient,
        onResponse: async (_request, reply) => {
          const status = reply.statusCode;
          const result =
            status < 400
              ? "ok"
              : status === 401
                ? "unauthorized"
                : status === 413
                  ? "too_large"
                  : status < 500
                    ? "invalid"
                    : "error";
          counters.batches.inc({ result });
        },
        schema: {
          tags: ["telemetry"],
          summary: "Push a metric and log batch (dcmon wire format); bad rows are refused one by one",
          security: [{ token: [] }],
          response: { 200: MetricsAnswer, 400: ErrorBody, 401: ErrorBody, 413: ErrorBody },
        },
      },
      async (request) => {
        const system = request.system;
        if (!system) throw new HttpError(401, "unauthorized", "agent token required");
        const now = Date.now();
        let batch: ReturnType<typeof validateBatch>;
        try {
          batch = validateBatch(request.body, {
            now,
            maxFutureMs: t.max_future_seconds * 1000,
            metricsMaxAgeMs: t.metrics_days * DAY_MS,
            logsMaxAgeMs: t.logs_days * DAY_MS,
            maxRows: t.max_rows_per_batch,
          });
        } catch (err) {
          if (err instanceof BatchRefused) throw new HttpError(err.status, err.code, err.message);
          throw err;
        }
        const started = performance.now();
        const result = await ingest.write(system.id, batch, now);
        counters.ingestDuration.observe((performance.now() - started) / 1000);
        counters.samples.inc({ result: "inserted" }, result.inserted);
        counters.samples.inc({ result: "rejected" }, result.rejected.length);
        counters.logLines.inc({ result: "inserted" }, result.logsInserted);
        counters.logLines.inc({ result: "rejected" }, batch.logsRejected.length);
        if (result.seriesCreated > 0) counters.seriesCreated.inc(result.seriesCreated);
        return {
          received: batch.received,
          inserted: result.inserted,
          logs_received: batch.logsReceived,
          logs_inserted: result.logsInserted,
          rejected: result.rejected,
          logs_rejected: batch.logsRejected,
        };
      },
    );

    const timeseries = async (rate: boolean, metrics: string, rawQuery: unknown) => {
      const now = Date.now();
      try {
        const params = singleParams(rawQuery, TIMESERIES_PARAMS);
        const query = parseTimeseriesQuery(metrics, params, { rate, now });
        return await runTimeseriesQuery(ctx.database.db, query, rate, retention, now);
      } catch (err) {
        if (err instanceof QueryParamError) throw new HttpError(400, "invalid_request", err.message);
        throw err;
      }
    };
    const timeseriesSchema = (summary: string) => ({
      tags: ["telemetry"],
      summary,
      security: [{ token: [] }],
      params: Type.Object({ metrics: Type.String({ description: "Metric names, comma-separated" }) }),
      response: { 200: Type.Unknown(), ...errorResponses },
    });
    app.get(
      "/api/timeseries/:metrics",
      { preHandler: viewer, schema: timeseriesSchema("Metric values on a step grid, combined per system") },
      (request) => timeseries(false, request.params.metrics, request.query),
    );
    app.get(
      "/api/timeseries/:metrics/rate",
      {
        preHandler: viewer,
        schema: timeseriesSchema("rate / increase / irate of counters on a step grid (Prometheus semantics)"),
      },
      (request) => timeseries(true, request.params.metrics, request.query),
    );

    app.get(
      "/api/logs",
      {
        preHandler: viewer,
        schema: {
          tags: ["telemetry"],
          summary: "Search log lines, newest first",
          security: [{ token: [] }],
          response: {
            200: Type.Object({
              logs: Type.Array(
                Type.Object({
                  id: Type.Integer(),
                  system_id: Type.String(),
                  source: Type.String(),
                  ts: Type.Number(),
                  severity: Type.Union([Type.String(), Type.Null()]),
                  content: Type.String(),
                }),
              ),
              next_before_id: Type.Union([Type.Integer(), Type.Null()]),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const p = singleParams(request.query, LOG_PARAMS);
        const severity = p.severity?.trim().toUpperCase();
        if (severity !== undefined && severity !== "" && !SEVERITIES.includes(severity as Severity)) {
          throw new HttpError(400, "invalid_request", `severity must be one of ${SEVERITIES.join(", ")}`);
        }
        const seconds = (name: "since" | "until") => {
          const value = p[name];
          if (value === undefined || value === "") return undefined;
          const n = Number(value);
          if (!Number.isFinite(n) || n < 0) throw new HttpError(400, "invalid_request", `${name} must be unix seconds`);
          return Math.round(n * 1000);
        };
        const integer = (name: "limit" | "before_id", min: number, max: number) => {
          const value = p[name];
          if (value === undefined || value === "") return undefined;
          const n = Number(value);
          if (!Number.isInteger(n) || n < min || n > max) {
            throw new HttpError(400, "invalid_request", `${name} must be an integer from ${min} to ${max}`);
          }
          return n;
        };
        return searchLogs(ctx.database.db, {
          systems: commaList(p.systems),
          sources: commaList(p.source),
          severity: severity ? (severity as Severity) : undefined,
          text: p.q,
          since: seconds("since"),
          until: seconds("until"),
          limit: integer("limit", 1, 1000) ?? 100,
          beforeId: integer("before_id", 1, Number.MAX_SAFE_INTEGER),
        });
      },
    );
  };
}

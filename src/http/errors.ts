import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";

/** The one error body every API answer uses: a stable machine code and a sentence for people. */
export interface ApiError {
  error: string;
  message: string;
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendError(reply: FastifyReply, status: number, error: string, message: string) {
  return reply
    .code(status)
    .type("application/json")
    .send({ error, message } satisfies ApiError);
}

const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  411: "length_required",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "unprocessable",
  429: "too_many_requests",
  503: "unavailable",
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
      return sendError(reply, err.statusCode, err.code, err.message);
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (err.validation) {
      return sendError(reply, 400, "invalid_request", err.message);
    }
    if (status >= 500) {
      request.log.error({ err }, "request failed");
      return sendError(reply, status, "internal", "internal server error");
    }
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return sendError(reply, 413, "payload_too_large", "request body is larger than server.body_limit_bytes");
    }
    return sendError(reply, status, CODES[status] ?? "error", err.message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, "not_found", `no route ${request.method} ${request.url.split("?")[0]}`),
  );
}

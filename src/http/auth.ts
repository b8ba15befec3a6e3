import type {} from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../app/context.js";
import { parseBasic, type SystemIdentity } from "../auth/system-credentials.js";
import type { TokenIdentity } from "../auth/tokens.js";
import { HttpError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    system?: SystemIdentity;
    token?: TokenIdentity;
  }
}

export const SESSION_COOKIE = "fleetledger_session";

/** preHandler for the push API: HTTP Basic `system_key:system_secret`. */
export function requireSystem(ctx: AppContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const basic = parseBasic(request.headers.authorization);
    if (!basic) {
      reply.header("WWW-Authenticate", 'Basic realm="fleetledger"');
      throw new HttpError(401, "unauthorized", "HTTP Basic credentials system_key:system_secret are required");
    }
    const system = await ctx.systems.verify(basic.user, basic.password);
    if (!system) throw new HttpError(401, "unauthorized", "invalid system credentials");
    request.system = system;
  };
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith("Bearer ")) return header.slice(7).trim();
  return request.cookies?.[SESSION_COOKIE];
}

/**
 * preHandler for the admin API: a bearer token (or the dashboard's session cookie holding one). Tokens limited to
 * some Cloud Foundry organizations only open the billing routes, which pass `allowOrgScoped`. `enroll` routes (agent
 * registration) take an admin token or an enrolment token; an enrolment token opens nothing else.
 */
export function requireToken(ctx: AppContext, role: "viewer" | "admin" | "enroll" = "viewer", allowOrgScoped = false) {
  return async (request: FastifyRequest) => {
    const raw = bearer(request);
    if (!raw) throw new HttpError(401, "unauthorized", "an API token is required (Authorization: Bearer <token>)");
    const token = await ctx.tokens.verify(raw);
    if (!token) throw new HttpError(401, "unauthorized", "invalid API token");
    if (token.orgs && !allowOrgScoped) {
      throw new HttpError(403, "forbidden", "this token is limited to billing data of its organizations");
    }
    if (token.role === "enroll" && role !== "enroll") {
      throw new HttpError(403, "forbidden", "an enrolment token only registers agents");
    }
    if (role === "enroll" && token.role === "viewer") {
      throw new HttpError(403, "forbidden", "registering an agent needs an admin or enrolment token");
    }
    if (role === "admin" && token.role !== "admin") {
      throw new HttpError(403, "forbidden", "this action needs an admin token");
    }
    request.token = token;
  };
}

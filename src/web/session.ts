import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../app/context.js";
import { SESSION_COOKIE } from "../http/auth.js";
import { wantsFragment } from "./components.js";

// The cookie carries the API token itself, so the dashboard and the JSON API (which reads the same cookie)
// share one credential model; HttpOnly keeps it away from scripts and SameSite=Lax off cross-site POSTs.
export function setSession(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    secure: request.protocol === "https",
  });
}

export function clearSession(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: "/" });
}

// One leading slash, then no slash or backslash right after it and no control characters anywhere: browsers
// drop tabs and newlines from URLs, so "/\t/evil.example" would otherwise become "//evil.example".
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const LOCAL_PATH = /^\/(?![/\\])[^\\\u0000-\u001f\u007f]*$/;

/** A local path to return to after login; anything else (another host, a repeated query parameter) becomes "/". */
export function safeNext(next: unknown): string {
  return typeof next === "string" && LOCAL_PATH.test(next) ? next : "/";
}

/**
 * preHandler of every dashboard page: puts the session's token on `request.token`. Without a valid session the
 * page redirects to the login form, unless `web.require_login` is off, where pages are open read-only.
 */
export function loadSession(ctx: AppContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = request.cookies[SESSION_COOKIE];
    const verified = raw ? await ctx.tokens.verify(raw) : undefined;
    // Organization-scoped tokens are for the billing API only and enrolment tokens only register agents; neither
    // is a dashboard session.
    const token = verified?.orgs || verified?.role === "enroll" ? undefined : verified;
    if (token) {
      request.token = token;
      return;
    }
    if (raw) clearSession(reply);
    if (!ctx.settings.web.require_login) return;
    // A plain redirect would make htmx swap the login page into a fragment target; HX-Redirect reloads instead.
    if (wantsFragment(request)) return reply.code(401).header("HX-Redirect", "/login").send();
    const next = request.method === "GET" ? request.url : "/";
    return reply.redirect(`/login${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}`, 303);
  };
}

/**
 * Rejects state-changing requests sent by another site. SameSite=Lax already keeps the cookie off them in
 * current browsers; checking Origin and Sec-Fetch-Site also covers older ones and the login form itself.
 */
export function isCrossSite(request: FastifyRequest): boolean {
  if (request.headers["sec-fetch-site"] === "cross-site") return true;
  const origin = request.headers.origin;
  if (!origin) return false;
  if (origin === "null") return true;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

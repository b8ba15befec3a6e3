import type {} from "@fastify/rate-limit";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { listAlerts } from "../alerts/store.js";
import type { AppContext } from "../app/context.js";
import { SESSION_COOKIE } from "../http/auth.js";
import { ruleSettings } from "../inventory/settings.js";
import { changeCounts, latestRecord, listDiffs } from "../inventory/store.js";
import { getSystem, listOrganizations, listSystems } from "../systems/registry.js";
import { type AssetName, staticRoutes } from "./assets.js";
import { billingPages } from "./billing-routes.js";
import { CHART_ASSETS } from "./charts.js";
import { emptyState, intParam, oneOf, sendPage, wantsFragment } from "./components.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import { ALERT_STATUSES, ALERTS_PAGE_SIZE, alertsPage } from "./pages/alerts.js";
import { DEAD_PAGE_SIZE, jobsPage, retriedRow } from "./pages/jobs.js";
import { loginPage } from "./pages/login.js";
import {
  CHANGES_MAX_ROWS,
  CHANGES_PAGE_SIZE,
  CHART_DAYS,
  type ChangesFilter,
  changesUrl,
  notFoundPage,
  SEVERITY_LEVELS,
  systemPage,
  type TimelineView,
  timeline,
} from "./pages/system.js";
import { STATUSES, SYSTEMS_PAGE_SIZE, systemsPage, systemsTable, systemsUrl } from "./pages/systems.js";
import { dailySeries, diffsPerDay, firstChartDay, organizationName } from "./queries.js";
import { clearSession, isCrossSite, loadSession, safeNext, setSession } from "./session.js";
import { telemetryPages } from "./telemetry-routes.js";
import { vspherePages } from "./vsphere-routes.js";

// Query parameters are read by hand rather than through a schema: a dashboard link with a stale or mistyped
// filter should show the unfiltered page, not a JSON validation error.
type Query = Record<string, string | undefined>;

// Scripts and styles come only from /static; no inline script or style exists, so injected markup cannot run.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

export function webRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const db = ctx.database.db;
    const rules = ruleSettings(ctx.settings);
    const categories = [...new Set([...rules.categories.map((c) => c.name), rules.default_category])];

    app.addHook("onSend", async (_request, reply) => {
      reply.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
      reply.header("X-Content-Type-Options", "nosniff");
      reply.header("Referrer-Policy", "same-origin");
      if (String(reply.getHeader("Content-Type") ?? "").startsWith("text/html")) {
        // Pages differ between their full and htmx-fragment form and show data only the session may see.
        reply.header("Cache-Control", "no-store");
        reply.header("Vary", "HX-Request, Cookie");
      }
    });

    app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      if (status >= 500) request.log.error({ err }, "dashboard request failed");
      const message = status >= 500 ? "Something went wrong on the server; the log has the details." : err.message;
      return sendPage(
        reply,
        layout("Error", html`<section class="card">${emptyState(`Error ${status}`, message)}</section>`, "", {
          user: request.token,
        }),
        status,
      );
    });

    await app.register(staticRoutes);

    app.get<{ Querystring: Query }>("/login", { schema: { hide: true } }, async (request, reply) => {
      const next = safeNext(request.query.next);
      const raw = request.cookies[SESSION_COOKIE];
      if (raw && (await ctx.tokens.verify(raw))) return reply.redirect(next, 303);
      return sendPage(reply, loginPage(next));
    });

    app.post<{ Body: Query }>(
      "/login",
      {
        schema: { hide: true },
        // Each attempt costs an scrypt verification; the limit keeps guessing from becoming a CPU sink.
        config: { rateLimit: { max: 20, timeWindow: 60_000 } },
      },
      async (request, reply) => {
        if (isCrossSite(request)) return sendPage(reply, loginPage("/", "Sign-in from another site refused."), 403);
        const body = request.body ?? {};
        const next = safeNext(body.next);
        const token = typeof body.token === "string" ? body.token.trim() : "";
        const identity = token ? await ctx.tokens.verify(token) : undefined;
        if (!identity) {
          request.log.info({ ip: request.ip }, "dashboard login with an invalid token");
          return sendPage(reply, loginPage(next, "That token is not valid. Check for missing characters."), 401);
        }
        if (identity.role === "enroll") {
          return sendPage(reply, loginPage(next, "An enrolment token only registers agents."), 403);
        }
        if (identity.orgs) {
          return sendPage(
            reply,
            loginPage(next, "This token is limited to the billing API of its organizations."),
            403,
          );
        }
        setSession(request, reply, token);
        return reply.redirect(next, 303);
      },
    );

    app.post("/logout", { schema: { hide: true } }, async (request, reply) => {
      if (isCrossSite(request)) return reply.code(403).send();
      clearSession(reply);
      return reply.redirect(ctx.settings.web.require_login ? "/login" : "/systems", 303);
    });

    await app.register(async (pages) => {
      pages.addHook("preHandler", loadSession(ctx));
      const page = (request: FastifyRequest, title: string, body: SafeHtml, active: string, assets: AssetName[] = []) =>
        layout(title, body, active, { user: request.token, assets });

      pages.get("/", { schema: { hide: true } }, async (_request, reply) => reply.redirect("/systems", 302));

      pages.get<{ Querystring: Query }>("/systems", { schema: { hide: true } }, async (request, reply) => {
        const organizations = await listOrganizations(db);
        const filter = {
          org: oneOf(
            request.query.org,
            organizations.map((o) => o.id),
          ),
          status: oneOf(request.query.status, STATUSES),
          offset: intParam(request.query.offset, 0),
        };
        const [systems, counts] = await Promise.all([
          listSystems(db, { ...filter, limit: SYSTEMS_PAGE_SIZE + 1 }),
          changeCounts(db),
        ]);
        const view = { filter, organizations, systems, changeCounts: counts, now: new Date() };
        // htmx would push the raw form query, empty fields included; the canonical URL reads better.
        if (wantsFragment(request))
          return sendPage(reply.header("HX-Push-Url", systemsUrl(filter)), systemsTable(view));
        return sendPage(reply, page(request, "Systems", systemsPage(view), "systems"));
      });

      const changesFilter = (q: Query): ChangesFilter => ({
        category: oneOf(q.category, categories),
        severity: oneOf(q.severity, SEVERITY_LEVELS),
        significant: q.significant === "1" || q.significant === "on" || q.significant === "true",
        offset: intParam(q.offset, 0),
      });

      /**
       * A full page shows every row up to offset + one page (capped), so "load more" also works as a plain link;
       * an htmx continuation returns only the next page.
       */
      async function loadTimeline(systemId: string, filter: ChangesFilter, continuation: boolean, now: Date) {
        const start = continuation ? filter.offset : 0;
        const end = continuation
          ? start + CHANGES_PAGE_SIZE
          : Math.min(filter.offset + CHANGES_PAGE_SIZE, CHANGES_MAX_ROWS);
        // A continuation also reads the row before it, to tell whether its first group goes on from the screen.
        const from = continuation ? start - 1 : start;
        const fetched = await listDiffs(db, systemId, {
          category: filter.category,
          severity: filter.severity,
          significant: filter.significant ? true : undefined,
          offset: from,
          limit: end - from + 1,
        });
        const rows = continuation ? fetched.slice(1) : fetched;
        const more = rows.length > end - start;
        const view: TimelineView = {
          systemId,
          filter,
          rows: rows.slice(0, end - start),
          previousRecordId: continuation ? fetched[0]?.record_id : undefined,
          nextOffset: more && (continuation || end < CHANGES_MAX_ROWS) ? end : undefined,
          now,
        };
        return view;
      }

      async function renderSystem(request: FastifyRequest, reply: FastifyReply, id: string, query: Query) {
        const now = new Date();
        const system = await getSystem(db, id);
        if (!system) {
          if (wantsFragment(request)) return reply.code(404).send();
          return sendPage(
            reply,
            page(request, "System not found", notFoundPage("There is no such system."), "systems"),
            404,
          );
        }
        const filter = changesFilter(query);
        const continuation = wantsFragment(request) && filter.offset > 0;
        const timelineView = await loadTimeline(system.id, filter, continuation, now);
        if (wantsFragment(request)) {
          if (!continuation) reply.header("HX-Push-Url", changesUrl(system.id, filter));
          return sendPage(reply, timeline(timelineView, continuation));
        }
        const [organization, latest, perDay] = await Promise.all([
          organizationName(db, system.org_id),
          latestRecord(db, system.id),
          diffsPerDay(db, system.id, firstChartDay(now, CHART_DAYS)),
        ]);
        const body = systemPage({
          system,
          organization: organization ?? system.org_id,
          latest: latest && { id: latest.id, received_at: latest.received_at, data: JSON.parse(latest.data) },
          chart: dailySeries(perDay, now, CHART_DAYS),
          categories,
          timeline: timelineView,
          now,
        });
        return sendPage(reply, page(request, system.name, body, "systems", CHART_ASSETS));
      }

      pages.get<{ Params: { id: string }; Querystring: Query }>(
        "/systems/:id",
        { schema: { hide: true } },
        async (request, reply) => renderSystem(request, reply, request.params.id, request.query),
      );

      pages.get<{ Params: { id: string }; Querystring: Query }>(
        "/systems/:id/changes",
        { schema: { hide: true } },
        async (request, reply) => renderSystem(request, reply, request.params.id, request.query),
      );

      pages.get<{ Querystring: Query }>("/alerts", { schema: { hide: true } }, async (request, reply) => {
        const now = new Date();
        const status = oneOf(request.query.status, ALERT_STATUSES);
        const offset = status ? intParam(request.query.offset, 0) : 0;
        const fetch = (which: "firing" | "resolved") =>
          status && status !== which
            ? Promise.resolve([])
            : listAlerts(db, { status: which, limit: ALERTS_PAGE_SIZE + 1, offset }, now);
        const [firing, resolved] = await Promise.all([fetch("firing"), fetch("resolved")]);
        return sendPage(
          reply,
          page(request, "Alerts", alertsPage({ status, offset, firing, resolved, now }), "alerts"),
        );
      });

      pages.get<{ Querystring: Query }>("/jobs", { schema: { hide: true } }, async (request, reply) => {
        const offset = intParam(request.query.offset, 0);
        const [depth, dead] = await Promise.all([ctx.queue.depth(), ctx.queue.listDead(DEAD_PAGE_SIZE + 1, offset)]);
        const view = { depth, dead, offset, canRetry: request.token?.role === "admin", now: new Date() };
        return sendPage(reply, page(request, "Jobs", jobsPage(view), "jobs"));
      });

      pages.post<{ Params: { id: string } }>(
        "/jobs/dead/:id/retry",
        { schema: { hide: true } },
        async (request, reply) => {
          if (isCrossSite(request)) return reply.code(403).send();
          if (request.token?.role !== "admin") {
            const body = html`<section class="card">${emptyState("Retrying needs an admin token.", html`<a href="/login">Sign in as an admin</a>`)}</section>`;
            return sendPage(reply, page(request, "Forbidden", body, "jobs"), 403);
          }
          const id = intParam(request.params.id, -1);
          const requeued = id >= 0 && (await ctx.queue.retryDead(id));
          if (requeued)
            request.log.info({ job: id, token: request.token.id }, "dead letter retried from the dashboard");
          if (wantsFragment(request)) return sendPage(reply, retriedRow(id, requeued));
          return reply.redirect("/jobs", 303);
        },
      );

      await pages.register(vspherePages(ctx));
      await pages.register(billingPages(ctx));
      await pages.register(telemetryPages(ctx));
    });
  };
}

import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { AppContext } from "../app/context.js";
import { listReports } from "../reports/vsphere-reports.js";
import { AggregateInputError, dayBounds, monthBounds } from "../vsphere/aggregate.js";
import { latestTotals, listSnapshotRuns, periodTotals, vmTrace } from "../vsphere/queries.js";
import { reportsDir, reportWriter } from "../vsphere/reports.js";
import { runDailyAggregation, runMonthlyAggregation, vmChargeback } from "../vsphere/service.js";
import type { AssetName } from "./assets.js";
import { CHART_ASSETS } from "./charts.js";
import { emptyState, formatNumber, intParam, oneOf, sendPage, wantsFragment } from "./components.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import {
  type ChargebackView,
  type ChargePeriod,
  chargebackPage,
  chargebackSection,
  chargebackUrl,
  periodName,
} from "./pages/chargeback.js";
import {
  overviewPage,
  REPORT_KINDS,
  reportsPage,
  reportsTable,
  reportsUrl,
  SNAPSHOTS_PAGE_SIZE,
  snapshotsPage,
  snapshotsTable,
  snapshotsUrl,
  TOTALS_RANGE,
  type TotalsView,
  totalsPage,
  totalsTable,
  totalsUrl,
} from "./pages/vcenters.js";
import { SEARCH_LIMIT, TRACE_RANGE, TRACE_VIEWS, type TraceView, tracePage, traceUrl } from "./pages/vm-trace.js";
import { hasDailyRows, hasSamples, latestRuns, searchVms, snapshotVcenters, vmIdentity } from "./queries.js";
import { isCrossSite } from "./session.js";

// A repeated parameter arrives as an array; each handler reads only the plain strings through `text`.
type Query = Record<string, string | string[] | undefined>;

const text = (value: string | string[] | undefined): string => (typeof value === "string" ? value : "");

const NAV_ID = "vcenters";
/** Longer search terms cannot be part of a VM name vCenter accepts (80 characters) anyway. */
const MAX_TERM = 200;

/** A number of days from the query, within what the page can show; a stray value falls back to the default. */
function daysParam(value: string | undefined, range: { defaultDays: number; maxDays: number }): number {
  return Math.min(range.maxDays, Math.max(1, intParam(value, range.defaultDays)));
}

const nowSeconds = (now: Date) => Math.floor(now.getTime() / 1000);

/** The period of a chargeback request: a day when `date` is given, else a month, by default the current one. */
function chargePeriod(q: Query, now: Date): ChargePeriod {
  const date = text(q.date);
  if (date) return { kind: "day", value: date };
  return { kind: "month", value: text(q.month) || now.toISOString().slice(0, 7) };
}

/**
 * The vCenter (vCTP) pages. Registered inside the signed-in part of webRoutes, so the session hook, the error page
 * and the security headers apply as to every other page.
 */
export function vspherePages(ctx: AppContext): FastifyPluginAsync {
  return async (pages) => {
    const db = ctx.database.db;
    const page = (request: FastifyRequest, title: string, body: SafeHtml, assets: AssetName[] = []) =>
      layout(title, body, NAV_ID, { user: request.token, assets });

    pages.get("/vcenters", { schema: { hide: true } }, async (request, reply) => {
      const [totals, runs] = await Promise.all([latestTotals(db), latestRuns(db)]);
      const view = { totals, runs, configured: ctx.settings.settings.vcenter_addresses, now: new Date() };
      return sendPage(reply, page(request, "vCenter", overviewPage(view)));
    });

    for (const kind of ["daily", "hourly"] as const) {
      pages.get<{ Querystring: Query }>(
        `/vcenters/totals/${kind}`,
        { schema: { hide: true } },
        async (request, reply) => {
          const days = daysParam(text(request.query.days), TOTALS_RANGE[kind]);
          const to = nowSeconds(new Date());
          const rows = await periodTotals(db, kind, to - days * 86400, to);
          const view: TotalsView = { kind, days, offset: intParam(text(request.query.offset), 0), rows };
          if (wantsFragment(request)) {
            return sendPage(reply.header("HX-Push-Url", totalsUrl(kind, days, view.offset)), totalsTable(view));
          }
          const title = kind === "daily" ? "Daily totals" : "Hourly detail";
          return sendPage(reply, page(request, title, totalsPage(view), CHART_ASSETS));
        },
      );
    }

    pages.get<{ Querystring: Query }>("/vm/trace", { schema: { hide: true } }, async (request, reply) => {
      const now = new Date();
      const term = text(request.query.vm).trim().slice(0, MAX_TERM);
      const mode = oneOf(text(request.query.view), TRACE_VIEWS) ?? "hourly";
      const days = daysParam(text(request.query.days), TRACE_RANGE[mode]);
      const view: TraceView = { term, mode, days, vm: undefined, matches: [], now };
      if (term) {
        const identity = await vmIdentity(db, term);
        if (identity) {
          const to = nowSeconds(now);
          const trace = await vmTrace(db, identity.vm_id, mode, to - days * 86400, to, identity.vcenter);
          view.vm = { identity, points: trace.points };
        } else {
          view.matches = await searchVms(db, term, SEARCH_LIMIT);
          const [only] = view.matches;
          if (only && view.matches.length === 1) return reply.redirect(traceUrl(only.vm_id, mode, days), 302);
        }
      }
      const title = view.vm ? `${view.vm.identity.name} · VM trace` : "VM trace";
      const status = term && !view.vm && view.matches.length === 0 ? 404 : 200;
      return sendPage(reply, page(request, title, tracePage(view), view.vm ? CHART_ASSETS : []), status);
    });

    pages.get<{ Querystring: Query }>("/vcenters/snapshots", { schema: { hide: true } }, async (request, reply) => {
      const vcenters = await snapshotVcenters(db);
      const vcenter = oneOf(text(request.query.vcenter), vcenters);
      const offset = intParam(text(request.query.offset), 0);
      const runs = await listSnapshotRuns(db, vcenter, { limit: SNAPSHOTS_PAGE_SIZE + 1, offset });
      const view = { vcenter, vcenters, offset, runs, now: new Date() };
      if (wantsFragment(request)) {
        return sendPage(reply.header("HX-Push-Url", snapshotsUrl(vcenter, offset)), snapshotsTable(view));
      }
      return sendPage(reply, page(request, "Snapshot runs", snapshotsPage(view)));
    });

    pages.get<{ Querystring: Query }>("/vcenters/reports", { schema: { hide: true } }, async (request, reply) => {
      const kind = oneOf(text(request.query.kind), REPORT_KINDS);
      const offset = intParam(text(request.query.offset), 0);
      const all = await listReports(reportsDir(ctx));
      const view = { kind, offset, reports: kind ? all.filter((r) => r.kind === kind) : all, now: new Date() };
      if (wantsFragment(request)) {
        return sendPage(reply.header("HX-Push-Url", reportsUrl(kind, offset)), reportsTable(view));
      }
      return sendPage(reply, page(request, "Reports", reportsPage(view)));
    });

    async function chargebackView(
      request: FastifyRequest,
      period: ChargePeriod,
      notice: ChargebackView["notice"],
    ): Promise<ChargebackView> {
      const view: ChargebackView = {
        period,
        result: undefined,
        error: undefined,
        canRegenerate: request.token?.role === "admin",
        // ISO days and months order correctly as text.
        unfinished: period.value >= new Date().toISOString().slice(0, period.kind === "month" ? 7 : 10),
        notice,
      };
      try {
        view.result = await vmChargeback(
          ctx,
          period.kind === "month" ? { month: period.value } : { day: period.value },
        );
      } catch (err) {
        if (!(err instanceof AggregateInputError)) throw err;
        view.error = err.message;
      }
      return view;
    }

    pages.get<{ Querystring: Query }>("/vcenters/chargeback", { schema: { hide: true } }, async (request, reply) => {
      const view = await chargebackView(request, chargePeriod(request.query, new Date()), undefined);
      const title = view.error ? "Chargeback" : `Chargeback ${periodName(view.period)}`;
      return sendPage(reply, page(request, title, chargebackPage(view)), view.error ? 400 : 200);
    });

    /** Whether the rollup's source rows are still stored: rebuilding from aged-out samples would empty the rollup. */
    async function sourceStored(period: ChargePeriod): Promise<boolean> {
      if (period.kind === "day") {
        const { start, end } = dayBounds(period.value);
        return hasSamples(db, start, end);
      }
      const { start, end, days } = monthBounds(period.value);
      return ctx.settings.vsphere.monthly_source === "samples"
        ? hasSamples(db, start, end)
        : hasDailyRows(db, days[0] as string, days[days.length - 1] as string);
    }

    async function regenerate(request: FastifyRequest, period: ChargePeriod): Promise<ChargebackView["notice"]> {
      try {
        if (!(await sourceStored(period))) {
          const source =
            period.kind === "day" || ctx.settings.vsphere.monthly_source === "samples"
              ? "hourly samples"
              : "daily rollups";
          return {
            refused: true,
            text: html`Not regenerated: no ${source} are stored for ${periodName(period)}, so rebuilding would only
              empty its rollup.`,
          };
        }
      } catch (err) {
        if (err instanceof AggregateInputError) return { refused: true, text: html`${err.message}` };
        throw err;
      }
      const outcome =
        period.kind === "day"
          ? await runDailyAggregation(ctx, period.value, reportWriter(ctx))
          : await runMonthlyAggregation(ctx, period.value, reportWriter(ctx));
      request.log.info(
        { type: outcome.type, date: outcome.date, rows: outcome.rows, token: request.token?.id },
        "vCenter rollup regenerated from the dashboard",
      );
      const files = outcome.reports.map((f) => f.split(/[\\/]/).pop() as string);
      return {
        refused: false,
        text: html`Regenerated ${periodName(period)}: ${formatNumber(outcome.rows)} VM rows in
          ${formatNumber(outcome.duration_ms)} ms${
            files.length > 0 &&
            html`; reports ${files.map((f, i) => html`${i > 0 ? ", " : ""}<code>${f}</code>`)} in
              <a href="/vcenters/reports">Reports</a>`
          }.`,
      };
    }

    pages.post<{ Body: Query }>(
      "/vcenters/chargeback/regenerate",
      { schema: { hide: true } },
      async (request, reply) => {
        if (isCrossSite(request)) return reply.code(403).send();
        if (request.token?.role !== "admin") {
          const body = html`<section class="card">${emptyState(
            "Regenerating needs an admin token.",
            html`<a href="/login">Sign in as an admin</a>`,
          )}</section>`;
          return sendPage(reply, page(request, "Forbidden", body), 403);
        }
        const period = chargePeriod(request.body ?? {}, new Date());
        const notice = await regenerate(request, period);
        if (wantsFragment(request)) {
          return sendPage(reply, chargebackSection(await chargebackView(request, period, notice)));
        }
        if (notice?.refused) {
          const view = await chargebackView(request, period, notice);
          return sendPage(reply, page(request, "Chargeback", chargebackPage(view)), 409);
        }
        return reply.redirect(chargebackUrl(period), 303);
      },
    );
  };
}

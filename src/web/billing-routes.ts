import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../app/context.js";
import { PricingError, priceIntervals } from "../billing/pricing.js";
import { type BillingDeps, billingDeps, monthlyBill, monthRange, usageIntervals } from "../cloudfoundry/billing.js";
import { iso } from "../lib/time.js";
import type { AssetName } from "./assets.js";
import { CHART_ASSETS } from "./charts.js";
import { emptyState, sendPage } from "./components.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import {
  type BillingView,
  billingPage,
  MONTH_PATTERN,
  monthOf,
  type OrgBillView,
  orgBillPage,
  type ResourceView,
  resourcePage,
  shiftMonth,
  TREND_MONTHS,
} from "./pages/billing.js";
import { hasUsageEvents, monthlyOrgTotals, resourceOrgs } from "./queries.js";

// A repeated parameter arrives as an array; only a plain string counts.
type Query = Record<string, string | string[] | undefined>;

const NAV_ID = "billing";
/** CF guids are 36 characters; anything much longer cannot name an organization or resource. */
const MAX_GUID = 200;

type Unpriced = Map<string, string>;

const unpricedList = (unpriced: Unpriced) => [...unpriced].map(([plan_guid, plan_name]) => ({ plan_guid, plan_name }));

/** The message of an error saying the pricing settings cannot price the month, which the page shows; others throw. */
function pricingProblem(err: unknown): string {
  if (err instanceof PricingError) return err.message;
  throw err;
}

/**
 * The Cloud Foundry billing pages. Registered inside the signed-in part of webRoutes, so the session hook, the error
 * page and the security headers apply as to every other page.
 */
export function billingPages(ctx: AppContext): FastifyPluginAsync {
  return async (pages) => {
    const db = ctx.database.db;
    const page = (request: FastifyRequest, title: string, body: SafeHtml, assets: AssetName[] = []) =>
      layout(title, body, NAV_ID, { user: request.token, assets });

    const deps: BillingDeps = billingDeps(ctx);
    /** Billing inputs for one request, gathering the plans whose usage no pricing plan covers for the page to name. */
    const depsFor = (unpriced: Unpriced): BillingDeps => ({
      ...deps,
      onUnpriced: (u) => unpriced.set(u.interval.plan_guid, u.interval.plan_name),
    });

    /** The month asked for, the running one when none is; undefined when the parameter is no month. */
    function monthParam(q: Query, now: Date): string | undefined {
      const month = typeof q.month === "string" ? q.month : "";
      if (month === "") return monthOf(now);
      return MONTH_PATTERN.test(month) ? month : undefined;
    }

    function badMonth(request: FastifyRequest, reply: FastifyReply, now: Date) {
      const body = html`<div class="page-head"><h1>Billing</h1></div>
      <section class="card">${emptyState(
        "That is not a month.",
        html`Months are written YYYY-MM, like <a href="/billing?month=${monthOf(now)}">${monthOf(now)}</a>.`,
      )}</section>`;
      return sendPage(reply, page(request, "Billing", body), 400);
    }

    function notFound(request: FastifyRequest, reply: FastifyReply, title: string, what: string, month: string) {
      const body = html`<section class="card">${emptyState(
        what,
        html`No usage event names it. <a href="/billing?month=${month}">Back to the bills</a>`,
      )}</section>`;
      return sendPage(reply, page(request, title, body), 404);
    }

    /** Like monthlyBill: intervals still open end now in the running month and at the month's end after it. */
    const openUntil = (month: string, now: Date) => iso(Math.min(now.getTime(), Date.parse(monthRange(month).stop)));

    pages.get<{ Querystring: Query }>("/billing", { schema: { hide: true } }, async (request, reply) => {
      const now = new Date();
      const month = monthParam(request.query, now);
      if (!month) return badMonth(request, reply, now);
      const view: BillingView = {
        month,
        current: monthOf(now),
        bill: undefined,
        error: undefined,
        trend: [],
        unpriced: [],
        configured: ctx.settings.cloudfoundry.foundations.length > 0,
        collected: await hasUsageEvents(db),
      };
      // Before the first collection the pricing settings are often still empty too; setting up comes first.
      if (view.collected) {
        const unpriced: Unpriced = new Map();
        const months = Array.from({ length: TREND_MONTHS }, (_, i) => shiftMonth(month, i + 1 - TREND_MONTHS));
        try {
          [view.bill, view.trend] = await Promise.all([
            monthlyBill(depsFor(unpriced), month, undefined, now),
            monthlyOrgTotals(deps, months, now),
          ]);
        } catch (err) {
          view.error = pricingProblem(err);
        }
        view.unpriced = unpricedList(unpriced);
      }
      return sendPage(reply, page(request, `Billing ${month}`, billingPage(view), CHART_ASSETS));
    });

    pages.get<{ Params: { org: string }; Querystring: Query }>(
      "/billing/orgs/:org",
      { schema: { hide: true } },
      async (request, reply) => {
        const now = new Date();
        const month = monthParam(request.query, now);
        if (!month) return badMonth(request, reply, now);
        const org = request.params.org;
        if (org.length > MAX_GUID || !(await hasUsageEvents(db, org))) {
          return notFound(request, reply, "Organization not found", "There is no such organization.", month);
        }
        const unpriced: Unpriced = new Map();
        const until = openUntil(month, now);
        const view: OrgBillView = {
          month,
          current: monthOf(now),
          orgGuid: org,
          bill: undefined,
          error: undefined,
          intervals: [],
          openUntil: until,
          unpriced: [],
        };
        try {
          [view.bill, view.intervals] = await Promise.all([
            monthlyBill(depsFor(unpriced), month, [org], now),
            usageIntervals(deps, monthRange(month), [org], until),
          ]);
        } catch (err) {
          view.error = pricingProblem(err);
        }
        view.unpriced = unpricedList(unpriced);
        const name = view.bill?.orgs[0]?.org_name ?? org;
        return sendPage(reply, page(request, `${name} · Billing ${month}`, orgBillPage(view)));
      },
    );

    pages.get<{ Params: { guid: string }; Querystring: Query }>(
      "/billing/resources/:guid",
      { schema: { hide: true } },
      async (request, reply) => {
        const now = new Date();
        const month = monthParam(request.query, now);
        if (!month) return badMonth(request, reply, now);
        const guid = request.params.guid;
        const orgs = guid.length > MAX_GUID ? [] : await resourceOrgs(db, guid);
        if (orgs.length === 0) {
          return notFound(request, reply, "Resource not found", "There is no such resource.", month);
        }
        const range = monthRange(month);
        const until = openUntil(month, now);
        const view: ResourceView = {
          month,
          current: monthOf(now),
          guid,
          orgs,
          intervals: [],
          events: [],
          openUntil: until,
          currency: ctx.settings.billing.currency,
          error: undefined,
        };
        try {
          const intervals = await usageIntervals(deps, range, orgs, until);
          view.intervals = intervals.filter((i) => i.resource_guid === guid);
          // billableEvents for the resource alone: pricing is per interval, so the others need not be priced.
          view.events = priceIntervals(view.intervals, ctx.plans, {
            rangeStart: range.start,
            rangeStop: range.stop,
            currency: ctx.settings.billing.currency,
            ceilScope: ctx.settings.billing.ceil_scope,
            onUnpriced: () => undefined,
          });
        } catch (err) {
          view.error = pricingProblem(err);
        }
        const name = view.intervals[0]?.resource_name ?? guid;
        const assets = view.intervals.length > 0 ? CHART_ASSETS : [];
        return sendPage(reply, page(request, `${name} · Billing ${month}`, resourcePage(view), assets));
      },
    );
  };
}

import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import Type from "typebox";
import type { AppContext } from "../app/context.js";
import { priceIntervals, sumPrices } from "../billing/pricing.js";
import { requireToken } from "../http/auth.js";
import { HttpError } from "../http/errors.js";
import { errorResponses } from "../http/schemas.js";
import {
  type BillingDeps,
  billableEvents,
  billingDeps,
  monthlyBill,
  parseRange,
  type Range,
  usageIntervals,
} from "./billing.js";
import { billCsv, billXlsx } from "./bill-export.js";
import type { UsageInterval } from "./intervals.js";

const RangeQuery = Type.Object({
  range_start: Type.Optional(Type.String()),
  range_stop: Type.Optional(Type.String()),
  org_guid: Type.Optional(Type.Array(Type.String())),
});

const UsageEventFields = {
  event_guid: Type.String(),
  event_start: Type.String(),
  event_stop: Type.String(),
  resource_guid: Type.String(),
  resource_name: Type.String(),
  resource_type: Type.String(),
  org_guid: Type.String(),
  org_name: Type.Optional(Type.String()),
  space_guid: Type.String(),
  space_name: Type.String(),
  plan_guid: Type.String(),
  plan_name: Type.Optional(Type.String()),
  number_of_nodes: Type.Union([Type.Number(), Type.Null()]),
  memory_in_mb: Type.Union([Type.Number(), Type.Null()]),
  storage_in_mb: Type.Union([Type.Number(), Type.Null()]),
};

/** The organizations a request may see: those asked for, limited to the token's own when it is org-scoped. */
function scopedOrgs(request: FastifyRequest, asked: string[] | undefined): string[] | undefined {
  const own = request.token?.orgs;
  if (!own) return asked;
  if (!asked) return own;
  const foreign = asked.filter((o) => !own.includes(o));
  if (foreign.length > 0) throw new HttpError(403, "forbidden", `this token may not read organization ${foreign[0]}`);
  return asked;
}

function range(query: { range_start?: string | undefined; range_stop?: string | undefined }): Range {
  const parsed = parseRange(query.range_start, query.range_stop);
  if (typeof parsed === "string") throw new HttpError(400, "invalid_request", parsed);
  return parsed;
}

function asUsageEvent(i: UsageInterval, r: Range) {
  return {
    event_guid: i.event_guid,
    event_start: [i.start, r.start].sort()[1] as string,
    event_stop: [i.stop, r.stop].sort()[0] as string,
    resource_guid: i.resource_guid,
    resource_name: i.resource_name,
    resource_type: i.resource_type,
    org_guid: i.org_guid,
    org_name: i.org_name,
    space_guid: i.space_guid,
    space_name: i.space_name,
    plan_guid: i.plan_guid,
    plan_name: i.plan_name,
    number_of_nodes: i.number_of_nodes,
    memory_in_mb: i.memory_in_mb,
    storage_in_mb: i.storage_in_mb,
  };
}

/** Versions of dated rows, each valid until the next of the same key. */
function validity<T extends { valid_from: string }>(rows: readonly T[], key: (row: T) => string, r: Range) {
  const sorted = [...rows].sort((a, b) => key(a).localeCompare(key(b)) || a.valid_from.localeCompare(b.valid_from));
  return sorted
    .map((row, i) => {
      const next = sorted[i + 1];
      const validTo = next && key(next) === key(row) ? `${next.valid_from}T00:00:00.000Z` : "9999-12-31T00:00:00.000Z";
      return { ...row, valid_from: `${row.valid_from}T00:00:00.000Z`, valid_to: validTo };
    })
    .filter((row) => row.valid_from < r.stop && row.valid_to > r.start);
}

/** paas-billing's API, same paths, parameters and field names, plus monthly bills. */
export function billingRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const reader = requireToken(ctx, "viewer", true);
    const deps: BillingDeps = {
      ...billingDeps(ctx),
      onUnpriced: (u) =>
        ctx.log.warn({ plan: u.interval.plan_guid, start: u.start, stop: u.stop }, "usage without a pricing plan"),
    };
    const tags = ["billing"];

    app.get(
      "/usage_events",
      {
        preHandler: reader,
        schema: {
          tags,
          summary: "Usage intervals in the range (paas-billing)",
          querystring: RangeQuery,
          response: { 200: Type.Array(Type.Object(UsageEventFields)), ...errorResponses },
        },
      },
      async (request) => {
        const r = range(request.query);
        const intervals = await usageIntervals(
          deps,
          r,
          scopedOrgs(request, request.query.org_guid),
          new Date().toISOString(),
        );
        return intervals.map((i) => asUsageEvent(i, r));
      },
    );

    app.get(
      "/billable_events",
      {
        preHandler: reader,
        schema: { tags, summary: "Priced usage in the range (paas-billing)", querystring: RangeQuery },
      },
      async (request) => billableEvents(deps, range(request.query), scopedOrgs(request, request.query.org_guid)),
    );

    const forecast = async (request: FastifyRequest, events: unknown) => {
      const query = request.query as { range_start?: string; range_stop?: string };
      const r = range(query);
      if (!Array.isArray(events))
        throw new HttpError(400, "invalid_request", "events must be a JSON array of usage events");
      const intervals: UsageInterval[] = events.map((e, i) => {
        const ev = e as Record<string, unknown>;
        for (const field of ["event_start", "event_stop", "plan_guid"]) {
          if (typeof ev[field] !== "string")
            throw new HttpError(400, "invalid_request", `events[${i}].${field} must be a string`);
        }
        const num = (v: unknown) => (typeof v === "number" ? v : null);
        const str = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);
        return {
          event_guid: str(ev.event_guid, `forecast-${i}`),
          resource_guid: str(ev.resource_guid, `forecast-${i}`),
          resource_name: str(ev.resource_name, ""),
          resource_type: str(ev.resource_type, "app") as UsageInterval["resource_type"],
          org_guid: str(ev.org_guid, ""),
          org_name: str(ev.org_name, ""),
          space_guid: str(ev.space_guid, ""),
          space_name: str(ev.space_name, ""),
          plan_guid: ev.plan_guid as string,
          plan_name: str(ev.plan_name, ""),
          number_of_nodes: num(ev.number_of_nodes),
          memory_in_mb: num(ev.memory_in_mb),
          storage_in_mb: num(ev.storage_in_mb),
          start: ev.event_start as string,
          stop: ev.event_stop as string,
        };
      });
      try {
        return priceIntervals(intervals, ctx.plans, {
          rangeStart: r.start,
          rangeStop: r.stop,
          currency: ctx.settings.billing.currency,
          ceilScope: ctx.settings.billing.ceil_scope,
        });
      } catch (err) {
        throw new HttpError(400, "invalid_request", (err as Error).message);
      }
    };

    app.get(
      "/forecast_events",
      {
        preHandler: reader,
        schema: {
          tags,
          summary: "Price hypothetical usage events (events= JSON) without storing them",
          querystring: Type.Object({
            range_start: Type.Optional(Type.String()),
            range_stop: Type.Optional(Type.String()),
            events: Type.Optional(Type.String()),
          }),
        },
      },
      async (request) => {
        let events: unknown;
        try {
          events = JSON.parse(request.query.events ?? "[]");
        } catch {
          throw new HttpError(400, "invalid_request", "events must be JSON");
        }
        return forecast(request, events);
      },
    );
    app.post(
      "/forecast_events",
      {
        preHandler: reader,
        schema: {
          tags,
          summary: "Price hypothetical usage events (JSON body)",
          querystring: Type.Object({
            range_start: Type.Optional(Type.String()),
            range_stop: Type.Optional(Type.String()),
          }),
        },
      },
      async (request) => forecast(request, request.body),
    );

    app.get(
      "/pricing_plans",
      {
        preHandler: reader,
        schema: { tags, summary: "Pricing plan versions valid in the range", querystring: RangeQuery },
      },
      async (request) => validity(ctx.settings.billing.pricing_plans, (p) => p.plan_guid, range(request.query)),
    );
    app.get(
      "/vat_rates",
      { preHandler: reader, schema: { tags, summary: "VAT rates valid in the range", querystring: RangeQuery } },
      async (request) => validity(ctx.settings.billing.vat_rates, (v) => v.code, range(request.query)),
    );
    app.get(
      "/currency_rates",
      { preHandler: reader, schema: { tags, summary: "Currency rates valid in the range", querystring: RangeQuery } },
      async (request) => validity(ctx.settings.billing.currency_rates, (c) => c.code, range(request.query)),
    );

    app.get(
      "/totals",
      {
        preHandler: reader,
        schema: { tags, summary: "Totals per organization in the range", querystring: RangeQuery },
      },
      async (request) => {
        const events = await billableEvents(deps, range(request.query), scopedOrgs(request, request.query.org_guid));
        const byOrg = new Map<string, typeof events>();
        for (const e of events) byOrg.set(e.org_guid, [...(byOrg.get(e.org_guid) ?? []), e]);
        return [...byOrg.entries()]
          .map(([org_guid, list]) => ({ org_guid, org_name: list[0]?.org_name ?? "", ...sumPrices(list) }))
          .sort((a, b) => a.org_guid.localeCompare(b.org_guid));
      },
    );

    const BillQuery = Type.Object({
      month: Type.String({ pattern: "^\\d{4}-(0[1-9]|1[0-2])$" }),
      org: Type.Optional(Type.Array(Type.String())),
    });

    app.get(
      "/api/bills",
      {
        preHandler: reader,
        schema: {
          tags,
          summary: "Monthly bill per org, space and plan; month-to-date and forecast for the running month",
          querystring: BillQuery,
        },
      },
      async (request) => monthlyBill(deps, request.query.month, scopedOrgs(request, request.query.org)),
    );

    app.get(
      "/api/bills/export",
      {
        preHandler: reader,
        schema: {
          tags,
          summary: "A monthly bill as CSV or XLSX",
          querystring: Type.Object({
            ...BillQuery.properties,
            format: Type.Union([Type.Literal("csv"), Type.Literal("xlsx")]),
          }),
        },
      },
      async (request, reply) => {
        const bill = await monthlyBill(deps, request.query.month, scopedOrgs(request, request.query.org));
        const name = `bill-${request.query.month}.${request.query.format}`;
        reply.header("Content-Disposition", `attachment; filename="${name}"`);
        if (request.query.format === "csv") return reply.type("text/csv; charset=utf-8").send(billCsv(bill));
        return reply
          .type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
          .send(await billXlsx(bill));
      },
    );
  };
}

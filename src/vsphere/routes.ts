import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { AppContext } from "../app/context.js";
import { requireToken } from "../http/auth.js";
import { HttpError } from "../http/errors.js";
import { errorResponses, Paging } from "../http/schemas.js";
import { createReadStream } from "node:fs";
import { listReports, resolveReport } from "../reports/vsphere-reports.js";
import { AggregateInputError } from "./aggregate.js";
import { reportsDir } from "./reports.js";
import { dailyRows, latestTotals, listSnapshotRuns, monthlyRows, periodTotals, vmTrace } from "./queries.js";
import { type ReportWriter, runDailyAggregation, runMonthlyAggregation, vmChargeback } from "./service.js";

const AggregateRowSchema = Type.Object({
  Vcenter: Type.String(),
  VmId: Type.String(),
  VmUuid: Type.String(),
  Name: Type.String(),
  ResourcePool: Type.String(),
  Cluster: Type.String(),
  Datacenter: Type.String(),
  Folder: Type.String(),
  SamplesPresent: Type.Integer(),
  TotalSamples: Type.Integer(),
  AvgIsPresent: Type.Number(),
  AvgVcpuCount: Type.Number(),
  AvgRamGB: Type.Number(),
  AvgProvisionedDisk: Type.Number(),
  PoolTinPct: Type.Number(),
  PoolBronzePct: Type.Number(),
  PoolSilverPct: Type.Number(),
  PoolGoldPct: Type.Number(),
  Tin: Type.Number(),
  Bronze: Type.Number(),
  Silver: Type.Number(),
  Gold: Type.Number(),
  CreationTime: Type.Integer(),
  DeletionTime: Type.Integer(),
  SnapshotTime: Type.Integer(),
});

const Totals = Type.Object({
  vcenter: Type.String(),
  vm_count: Type.Number(),
  vcpus: Type.Number(),
  ram_gb: Type.Number(),
  provisioned_disk: Type.Number(),
  tin: Type.Number(),
  bronze: Type.Number(),
  silver: Type.Number(),
  gold: Type.Number(),
});

const LEGACY = [
  "/api/event/vm/create",
  "/api/event/vm/modify",
  "/api/event/vm/move",
  "/api/event/vm/delete",
  "/api/cleanup/updates",
  "/api/cleanup/vcenter",
];

const badPeriod = (err: unknown): never => {
  if (err instanceof AggregateInputError) throw new HttpError(400, "invalid_request", err.message);
  throw err;
};

export function vsphereRoutes(ctx: AppContext, writeReports?: ReportWriter): FastifyPluginAsyncTypebox {
  return async (app) => {
    const db = ctx.database.db;
    const viewer = requireToken(ctx, "viewer");
    const tags = ["vsphere"];

    app.get(
      "/api/vsphere/snapshots",
      {
        preHandler: viewer,
        schema: {
          tags,
          summary: "Snapshot runs per vCenter, newest first",
          querystring: Type.Object({ vcenter: Type.Optional(Type.String()), ...Paging }),
          response: {
            200: Type.Array(
              Type.Object({
                vcenter: Type.String(),
                snapshot_time: Type.Integer({ description: "unix seconds" }),
                snapshot_at: Type.String(),
                rows: Type.Integer(),
                status: Type.String(),
                error: Type.Union([Type.String(), Type.Null()]),
                duration_ms: Type.Integer(),
                round_trips: Type.Integer(),
                attempts: Type.Integer(),
              }),
            ),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        listSnapshotRuns(db, request.query.vcenter, {
          limit: request.query.limit ?? 100,
          offset: request.query.offset ?? 0,
        }),
    );

    app.get(
      "/api/vsphere/daily",
      {
        preHandler: viewer,
        schema: {
          tags,
          summary: "Daily VM rollup rows (vCTP fields)",
          querystring: Type.Object({
            date: Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$" }),
            vcenter: Type.Optional(Type.String()),
            ...Paging,
          }),
          response: { 200: Type.Array(AggregateRowSchema), ...errorResponses },
        },
      },
      async (request) =>
        dailyRows(db, request.query.date, request.query.vcenter, {
          limit: request.query.limit ?? 1000,
          offset: request.query.offset ?? 0,
        }),
    );

    app.get(
      "/api/vsphere/monthly",
      {
        preHandler: viewer,
        schema: {
          tags,
          summary: "Monthly VM rollup rows (vCTP fields)",
          querystring: Type.Object({
            month: Type.String({ pattern: "^\\d{4}-\\d{2}$" }),
            vcenter: Type.Optional(Type.String()),
            ...Paging,
          }),
          response: { 200: Type.Array(AggregateRowSchema), ...errorResponses },
        },
      },
      async (request) =>
        monthlyRows(db, request.query.month, request.query.vcenter, {
          limit: request.query.limit ?? 1000,
          offset: request.query.offset ?? 0,
        }),
    );

    app.get(
      "/api/vsphere/vms/:VmId/trace",
      {
        preHandler: viewer,
        schema: {
          tags,
          summary: "One VM over time: every snapshot (hourly) or the daily rollup (daily)",
          params: Type.Object({ VmId: Type.String() }),
          querystring: Type.Object({
            view: Type.Optional(Type.Union([Type.Literal("hourly"), Type.Literal("daily")])),
            days: Type.Optional(Type.Integer({ minimum: 1, maximum: 400 })),
            vcenter: Type.Optional(
              Type.String({ description: "VM ids repeat across vCenters; default: the one that saw it last" }),
            ),
          }),
          response: {
            200: Type.Object({
              vm_id: Type.String(),
              view: Type.String(),
              vcenter: Type.Union([Type.String(), Type.Null()]),
              points: Type.Array(
                Type.Object({
                  time: Type.Integer(),
                  present: Type.Number(),
                  VcpuCount: Type.Number(),
                  RamGB: Type.Number(),
                  ProvisionedDisk: Type.Number(),
                  ResourcePool: Type.String(),
                  Name: Type.String(),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const view = request.query.view ?? "hourly";
        const days = request.query.days ?? (view === "hourly" ? 7 : 90);
        const to = Math.floor(Date.now() / 1000);
        const trace = await vmTrace(db, request.params.VmId, view, to - days * 86400, to, request.query.vcenter);
        if (!trace.vcenter)
          throw new HttpError(404, "not_found", `no samples for VM ${request.params.VmId} in the last ${days} days`);
        return { vm_id: request.params.VmId, view, ...trace };
      },
    );

    app.get(
      "/api/vsphere/totals/latest",
      {
        preHandler: viewer,
        schema: {
          tags,
          summary: "Latest totals per vCenter",
          response: {
            200: Type.Array(Type.Object({ ...Totals.properties, snapshot_time: Type.Integer() })),
            ...errorResponses,
          },
        },
      },
      async () => latestTotals(db),
    );

    app.get(
      "/api/vsphere/totals/:kind",
      {
        preHandler: viewer,
        schema: {
          tags,
          summary: "Totals per vCenter per hour (last 45 days by default), day or month",
          params: Type.Object({
            kind: Type.Union([Type.Literal("hourly"), Type.Literal("daily"), Type.Literal("monthly")]),
          }),
          querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3660 })) }),
          response: {
            200: Type.Array(Type.Object({ ...Totals.properties, kind: Type.String(), period_start: Type.Integer() })),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const days = request.query.days ?? (request.params.kind === "hourly" ? 45 : 400);
        const to = Math.floor(Date.now() / 1000);
        return periodTotals(db, request.params.kind, to - days * 86400, to);
      },
    );

    app.get(
      "/api/vsphere/chargeback",
      {
        preHandler: viewer,
        schema: {
          tags,
          summary: "VM chargeback per tenant for a day or a month",
          querystring: Type.Object({ date: Type.Optional(Type.String()), month: Type.Optional(Type.String()) }),
          response: { 200: Type.Unknown(), ...errorResponses },
        },
      },
      async (request) => {
        const { date, month } = request.query;
        if ((date === undefined) === (month === undefined)) {
          throw new HttpError(400, "invalid_request", "give exactly one of date=YYYY-MM-DD or month=YYYY-MM");
        }
        return vmChargeback(ctx, date !== undefined ? { day: date } : { month: month as string }).catch(badPeriod);
      },
    );

    app.post(
      "/api/snapshots/aggregate",
      {
        preHandler: requireToken(ctx, "admin"),
        schema: {
          tags,
          summary: "Regenerate a daily or monthly rollup (idempotent)",
          body: Type.Object({
            type: Type.Union([Type.Literal("daily"), Type.Literal("monthly")]),
            date: Type.String(),
          }),
          response: {
            200: Type.Object({
              type: Type.String(),
              date: Type.String(),
              rows: Type.Integer(),
              duration_ms: Type.Integer(),
              reports: Type.Array(Type.String()),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const { type, date } = request.body;
        return (
          type === "daily"
            ? runDailyAggregation(ctx, date, writeReports)
            : runMonthlyAggregation(ctx, date, writeReports)
        ).catch(badPeriod);
      },
    );

    app.get(
      "/api/vsphere/reports",
      {
        preHandler: viewer,
        schema: {
          tags,
          summary: "Report files in reports_dir, newest first",
          response: {
            200: Type.Array(
              Type.Object({
                name: Type.String(),
                kind: Type.String(),
                format: Type.String(),
                size: Type.Integer(),
                modified: Type.String(),
              }),
            ),
            ...errorResponses,
          },
        },
      },
      async () => listReports(reportsDir(ctx)),
    );

    app.get(
      "/api/vsphere/reports/:name",
      {
        preHandler: viewer,
        schema: { tags, summary: "Download one report file", params: Type.Object({ name: Type.String() }) },
      },
      async (request, reply) => {
        const file = await resolveReport(reportsDir(ctx), request.params.name);
        if (!file) throw new HttpError(404, "not_found", `no report named ${request.params.name}`);
        const type = file.endsWith(".csv")
          ? "text/csv; charset=utf-8"
          : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        return reply
          .type(type)
          .header("Content-Disposition", `attachment; filename="${request.params.name}"`)
          .send(createReadStream(file));
      },
    );

    for (const path of LEGACY) {
      app.all(path, { schema: { hide: true } }, async () => {
        if (!ctx.settings.settings.enable_legacy_api) {
          throw new HttpError(
            410,
            "gone",
            `${path} was removed: vCenter changes are derived from hourly snapshots. Set settings.enable_legacy_api: true to re-enable it temporarily.`,
          );
        }
        throw new HttpError(
          501,
          "not_implemented",
          `${path} is accepted for compatibility only: Fleetledger derives VM events from snapshots and has nothing to apply`,
        );
      });
    }
  };
}

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../app/context.js";
import { listAudit } from "../commands/audit.js";
import { runCommand } from "../commands/service.js";
import { listOrganizations } from "../systems/registry.js";
import { SEVERITIES } from "../telemetry/batch.js";
import { searchLogs } from "../telemetry/logs.js";
import type { AssetName } from "./assets.js";
import { emptyState, intParam, oneOf, sendPage, wantsFragment } from "./components.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import {
  type ChartRange,
  chartsTab,
  DEFAULT_RANGE,
  type HostHead,
  hostCharts,
  LOCAL_TIME,
  RANGES,
} from "./pages/host.js";
import {
  ACTION_IDS,
  type ActionId,
  AUDIT_ROWS,
  type CommandsView,
  commandsTab,
  HOST_ACTIONS,
} from "./pages/host-commands.js";
import { LOGS_PAGE_SIZE, type LogsFilter, logsTab, logsTable, logsUrl } from "./pages/host-logs.js";
import { HOSTS_PAGE_SIZE, HOSTS_REFRESH_ID, hostsPage, hostsTable, hostsUrl, isOnline } from "./pages/hosts.js";
import { isCrossSite } from "./session.js";
import {
  cpuSensors,
  getHost,
  HOST_STATUSES,
  hostReadingsBySystem,
  listHosts,
  logSources,
} from "./telemetry-queries.js";

// Read by hand, as in routes.ts: a stale or mistyped filter shows the unfiltered page. A repeated parameter arrives
// as an array and counts as missing.
type Query = Record<string, string | string[] | undefined>;

const NAV_ID = "hosts";
const HOST_ASSETS: AssetName[] = ["uPlot.min.css", "uPlot.min.js", "hosts.js"];
/** System ids are UUIDs; the cap keeps absurd paths away from the database. */
const MAX_ID = 100;
const MAX_SEARCH = 200;

const str = (value: string | string[] | undefined) => (typeof value === "string" ? value : undefined);

function chartRange(q: Query): ChartRange {
  const from = str(q.from);
  const to = str(q.to);
  if (from && LOCAL_TIME.test(from)) return { from, to: to && LOCAL_TIME.test(to) ? to : undefined };
  return {
    range:
      oneOf(
        str(q.range),
        RANGES.map((r) => r.id),
      ) ?? DEFAULT_RANGE,
  };
}

/**
 * The agent hosts' pages (the dcmon row): the Hosts table and each host's charts, logs and commands. Registered
 * inside the signed-in part of webRoutes, so the session hook, the error page and the security headers apply.
 */
export function telemetryPages(ctx: AppContext): FastifyPluginAsync {
  return async (pages) => {
    const db = ctx.database.db;
    const page = (request: FastifyRequest, title: string, body: SafeHtml, assets: AssetName[] = []) =>
      layout(title, body, NAV_ID, { user: request.token, assets });
    const onlineSince = (now: Date) => new Date(now.getTime() - ctx.settings.telemetry.online_minutes * 60_000);

    pages.get<{ Querystring: Query }>("/hosts", { schema: { hide: true } }, async (request, reply) => {
      const now = new Date();
      const organizations = await listOrganizations(db);
      const filter = {
        org: oneOf(
          str(request.query.org),
          organizations.map((o) => o.id),
        ),
        status: oneOf(str(request.query.status), HOST_STATUSES),
        offset: intParam(str(request.query.offset), 0),
      };
      const since = onlineSince(now);
      const hosts = await listHosts(db, { ...filter, limit: HOSTS_PAGE_SIZE + 1 }, since);
      const readings = await hostReadingsBySystem(
        db,
        hosts.slice(0, HOSTS_PAGE_SIZE).map((h) => h.id),
      );
      const serverUrl = `${request.protocol}://${request.host}`;
      const view = { filter, organizations, hosts, readings, onlineSince: since, now, serverUrl };
      if (wantsFragment(request)) {
        // The table's own periodic reload keeps the address as it is; a filter change shows its canonical URL.
        if (request.headers["hx-trigger"] !== HOSTS_REFRESH_ID) reply.header("HX-Push-Url", hostsUrl(filter));
        return sendPage(reply, hostsTable(view));
      }
      return sendPage(reply, page(request, "Hosts", hostsPage(view)));
    });

    /** The host's head, or a 404 answer already sent. */
    async function loadHead(request: FastifyRequest, reply: FastifyReply, id: string): Promise<HostHead | undefined> {
      const now = new Date();
      const host = id.length <= MAX_ID ? await getHost(db, id) : undefined;
      if (host) return { host, online: isOnline(host, onlineSince(now)), connected: ctx.commands.isConnected(id), now };
      if (wantsFragment(request)) reply.code(404).send();
      else {
        const body = html`<section class="card">${emptyState(
          "There is no such host.",
          html`<a href="/hosts">Back to the hosts</a>`,
        )}</section>`;
        sendPage(reply, page(request, "Host not found", body), 404);
      }
      return undefined;
    }

    pages.get<{ Params: { id: string }; Querystring: Query }>(
      "/hosts/:id",
      { schema: { hide: true } },
      async (request, reply) => {
        const head = await loadHead(request, reply, request.params.id);
        if (!head) return reply;
        const charts = hostCharts(await cpuSensors(db, head.host.id));
        const body = chartsTab(head, chartRange(request.query), charts);
        return sendPage(reply, page(request, head.host.name, body, HOST_ASSETS));
      },
    );

    pages.get<{ Params: { id: string }; Querystring: Query }>(
      "/hosts/:id/logs",
      { schema: { hide: true } },
      async (request, reply) => {
        const head = await loadHead(request, reply, request.params.id);
        if (!head) return reply;
        const q = request.query;
        const text = str(q.q)?.trim().slice(0, MAX_SEARCH);
        const beforeId = intParam(str(q.before_id), -1);
        const filter: LogsFilter = {
          source: str(q.source) || undefined,
          severity: oneOf(str(q.severity), SEVERITIES),
          text: text || undefined,
          beforeId: beforeId >= 0 ? beforeId : undefined,
        };
        const id = head.host.id;
        const [found, sources] = await Promise.all([
          searchLogs(db, {
            systems: [id],
            sources: filter.source ? [filter.source] : undefined,
            severity: filter.severity,
            text: filter.text,
            beforeId: filter.beforeId,
            limit: LOGS_PAGE_SIZE,
          }),
          logSources(db, id),
        ]);
        const view = {
          systemId: id,
          filter,
          sources,
          lines: found.logs,
          nextBeforeId: found.next_before_id,
          retentionDays: ctx.settings.telemetry.logs_days,
        };
        if (wantsFragment(request)) {
          reply.header("HX-Push-Url", logsUrl(id, filter));
          return sendPage(reply, logsTable(view));
        }
        return sendPage(reply, page(request, `${head.host.name} · Logs`, logsTab(head, view)));
      },
    );

    async function renderCommands(
      request: FastifyRequest,
      reply: FastifyReply,
      head: HostHead,
      extra: Pick<CommandsView, "confirm" | "sent">,
      status = 200,
    ) {
      const { entries } = await listAudit(db, { system_id: head.host.id, limit: AUDIT_ROWS });
      const view: CommandsView = { ...extra, canSend: request.token?.role === "admin", audit: entries, now: head.now };
      return sendPage(reply, page(request, `${head.host.name} · Commands`, commandsTab(head, view)), status);
    }

    pages.get<{ Params: { id: string }; Querystring: Query }>(
      "/hosts/:id/commands",
      { schema: { hide: true } },
      async (request, reply) => {
        const head = await loadHead(request, reply, request.params.id);
        if (!head) return reply;
        return renderCommands(request, reply, head, {
          confirm: oneOf(str(request.query.confirm), ACTION_IDS),
          sent: undefined,
        });
      },
    );

    pages.post<{ Params: { id: string }; Body: Query }>(
      "/hosts/:id/commands",
      { schema: { hide: true } },
      async (request, reply) => {
        if (isCrossSite(request)) return reply.code(403).send();
        const token = request.token;
        if (token?.role !== "admin") {
          const body = html`<section class="card">${emptyState(
            "Sending commands needs an admin token.",
            html`<a href="/login">Sign in as an admin</a>`,
          )}</section>`;
          return sendPage(reply, page(request, "Forbidden", body), 403);
        }
        const head = await loadHead(request, reply, request.params.id);
        if (!head) return reply;
        const action: ActionId | undefined = oneOf(str(request.body?.action), ACTION_IDS);
        if (!action) return renderCommands(request, reply, head, { confirm: undefined, sent: undefined }, 400);
        const { command_type, command_data } = HOST_ACTIONS[action];
        const outcome = await runCommand(ctx, token, { system_id: head.host.id, command_type, command_data });
        request.log.info(
          { system_id: head.host.id, command: action, status: outcome.status, token: token.id },
          "command sent from the dashboard",
        );
        // The head was read before the command; a refusal may mean the agent just went away.
        const after = { ...head, connected: ctx.commands.isConnected(head.host.id) };
        return renderCommands(request, reply, after, { confirm: undefined, sent: { action, outcome } });
      },
    );
  };
}

import type { AuditEntry } from "../../commands/audit.js";
import type { CommandOutcome } from "../../commands/service.js";
import { emptyState, jsonValue, query, timeCell } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { type HostHead, hostHead, hostPath } from "./host.js";

interface HostAction {
  label: string;
  command_type: "fan_control" | "system_info";
  command_data: Record<string, unknown>;
  /** What the confirmation step asks. */
  question: string;
}

/** The commands the tab offers; raw IPMI stays an API-only tool for people who know the bytes. */
export const HOST_ACTIONS = {
  fan_standard: {
    label: "Fans: standard",
    command_type: "fan_control",
    command_data: { mode: "standard" },
    question: "Set the BMC fan mode to standard?",
  },
  fan_full_speed: {
    label: "Fans: full",
    command_type: "fan_control",
    command_data: { mode: "full_speed" },
    question: "Run every fan at full speed?",
  },
  fan_optimal: {
    label: "Fans: optimal",
    command_type: "fan_control",
    command_data: { mode: "optimal" },
    question: "Set the BMC fan mode to optimal?",
  },
  fan_heavy_io: {
    label: "Fans: heavy IO",
    command_type: "fan_control",
    command_data: { mode: "heavy_io" },
    question: "Set the BMC fan mode to heavy IO?",
  },
  system_info: {
    label: "System info",
    command_type: "system_info",
    command_data: {},
    question: "Ask the agent for the host's system information?",
  },
} as const satisfies Record<string, HostAction>;

export type ActionId = keyof typeof HOST_ACTIONS;
export const ACTION_IDS = Object.keys(HOST_ACTIONS) as ActionId[];

export const AUDIT_ROWS = 20;

export interface CommandsView {
  /** The signed-in token may send commands. */
  canSend: boolean;
  /** The action whose confirmation step to show. */
  confirm: ActionId | undefined;
  /** The answer to the command just sent. */
  sent: { action: ActionId; outcome: CommandOutcome } | undefined;
  audit: AuditEntry[];
  now: Date;
}

function confirmation(head: HostHead, action: ActionId): SafeHtml {
  const path = hostPath(head.host.id, "commands");
  const { label, question } = HOST_ACTIONS[action];
  return html`<section class="card confirm" aria-labelledby="confirm-title">
    <h2 id="confirm-title">${label} on ${head.host.name}</h2>
    <p>${question} The command goes to the host's agent at once and is written to the audit log.</p>
    <form method="post" action="${path}" class="confirm-actions">
      <input type="hidden" name="action" value="${action}">
      <button type="submit" class="primary">Send to ${head.host.name}</button>
      <a class="button" href="${path}">Cancel</a>
    </form>
  </section>`;
}

function answer(sent: NonNullable<CommandsView["sent"]>): SafeHtml {
  const { label } = HOST_ACTIONS[sent.action];
  const { outcome } = sent;
  if (outcome.status === "completed") {
    return html`<section class="notice result" role="status">
      <p><strong>${label}</strong>: the agent answered.</p>
      <pre class="command">${JSON.stringify(outcome.result, null, 2)}</pre>
    </section>`;
  }
  const what = { error: "failed", timeout: "timed out", refused: "was refused" }[outcome.status];
  return html`<section class="alert-box result" role="alert"><strong>${label}</strong> ${what}: ${outcome.error}</section>`;
}

function actions(head: HostHead, view: CommandsView): SafeHtml {
  const path = hostPath(head.host.id, "commands");
  const disabled = !view.canSend || !head.connected;
  const why = !view.canSend
    ? html`<p class="note">Sending commands needs an admin token; <a href="/login">sign in as an admin</a>.</p>`
    : !head.connected
      ? html`<p class="note">The agent of this host is not connected for commands. It keeps a connection to
          <code>/ws/agent</code> while it runs; start the agent (or check that it can reach this server) and reload.</p>`
      : "";
  return html`<section class="card">
    <h2>Send a command</h2>
    ${why}
    <div class="command-buttons">
      ${ACTION_IDS.map((id) =>
        disabled
          ? html`<button type="button" disabled>${HOST_ACTIONS[id].label}</button>`
          : html`<a class="button" href="${path}${query({ confirm: id })}">${HOST_ACTIONS[id].label}</a>`,
      )}
    </div>
  </section>`;
}

/** What the command carried; audit rows written by other actions keep their whole detail. */
function commandData(detail: unknown): unknown {
  return detail !== null && typeof detail === "object" && "command_data" in detail ? detail.command_data : detail;
}

function auditTable(entries: AuditEntry[], now: Date): SafeHtml {
  if (entries.length === 0) {
    return emptyState("No commands sent to this host yet.", "Every command and its answer is listed here.");
  }
  return html`<table class="data audit">
    <thead><tr><th>When</th><th>By</th><th>Command</th><th>Outcome</th><th>Answer</th></tr></thead>
    <tbody>${entries.map(
      (e) => html`<tr>
        <td>${timeCell(e.at, now)}</td>
        <td>${e.actor}</td>
        <td><code>${e.action.replace(/^command\./, "")}</code> ${jsonValue(commandData(e.detail), 80)}</td>
        <td><span class="badge outcome-${e.outcome}">${e.outcome}</span></td>
        <td>${jsonValue(e.result, 160)}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

export function commandsTab(head: HostHead, view: CommandsView): SafeHtml {
  return html`${hostHead(head, "commands")}
  ${view.sent && answer(view.sent)}
  ${view.confirm && view.canSend && head.connected ? confirmation(head, view.confirm) : actions(head, view)}
  <section class="card">
    <h2>Recent commands <span class="muted">the last ${AUDIT_ROWS}, newest first</span></h2>
    ${auditTable(view.audit, view.now)}
  </section>`;
}

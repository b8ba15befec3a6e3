import { randomUUID } from "node:crypto";
import type { AppContext } from "../app/context.js";
import type { TokenIdentity } from "../auth/tokens.js";
import { getSystem } from "../systems/registry.js";
import { writeAudit } from "./audit.js";
import { AgentDisconnectedError, AgentNotConnectedError, CommandTimeoutError } from "./hub.js";
import { type CommandType, parseCommand } from "./protocol.js";

export class InvalidCommandError extends Error {
  override name = "InvalidCommandError";
}
export class UnknownSystemError extends Error {
  override name = "UnknownSystemError";
}

export interface CommandCall {
  system_id: string;
  command_type: string;
  command_data: unknown;
  timeout_seconds?: number | undefined;
}

interface Addressed {
  id: string;
  system_id: string;
  command_type: CommandType;
}

/** How a command ended; every variant has been written to the audit log. */
export type CommandOutcome =
  | (Addressed & { status: "completed"; result: Record<string, unknown> })
  | (Addressed & { status: "error"; error: string })
  | (Addressed & { status: "timeout"; error: string })
  | (Addressed & { status: "refused"; error: string });

/** Who the audit log names: the token's name for people, its id to tell equally named tokens apart. */
export function auditActor(token: Pick<TokenIdentity, "id" | "name">): string {
  return `${token.name} (token ${token.id})`;
}

/**
 * Validates a command, sends it to the system's connected agent and waits for the answer. Input that is not a
 * command and unknown systems throw (nothing was attempted, nothing is audited); everything else is audited.
 */
export async function runCommand(
  ctx: Pick<AppContext, "database" | "commands" | "settings">,
  actor: Pick<TokenIdentity, "id" | "name">,
  call: CommandCall,
): Promise<CommandOutcome> {
  const command = parseCommand(call.command_type, call.command_data);
  if (typeof command === "string") throw new InvalidCommandError(command);
  const db = ctx.database.db;
  if (!(await getSystem(db, call.system_id))) throw new UnknownSystemError(`no system ${call.system_id}`);

  const timeoutSeconds = call.timeout_seconds ?? ctx.settings.telemetry.command_timeout_seconds;
  const addressed: Addressed = { id: randomUUID(), system_id: call.system_id, command_type: command.type };
  const outcome = await deliver(ctx, addressed, command.data, timeoutSeconds);
  await writeAudit(db, {
    actor: auditActor(actor),
    action: `command.${command.type}`,
    system_id: call.system_id,
    detail: { id: addressed.id, command_data: command.data, timeout_seconds: timeoutSeconds },
    outcome: outcome.status === "completed" ? "ok" : outcome.status,
    result: outcome.status === "completed" ? outcome.result : { error: outcome.error },
  });
  return outcome;
}

async function deliver(
  ctx: Pick<AppContext, "commands">,
  addressed: Addressed,
  data: Record<string, unknown>,
  timeoutSeconds: number,
): Promise<CommandOutcome> {
  try {
    const reply = await ctx.commands.send(
      addressed.system_id,
      { id: addressed.id, command_type: addressed.command_type, command_data: data },
      timeoutSeconds * 1000,
    );
    return reply.status === "completed"
      ? { ...addressed, status: "completed", result: reply.result }
      : { ...addressed, status: "error", error: reply.error };
  } catch (err) {
    if (err instanceof AgentNotConnectedError) return { ...addressed, status: "refused", error: err.message };
    if (err instanceof CommandTimeoutError) return { ...addressed, status: "timeout", error: err.message };
    if (err instanceof AgentDisconnectedError) return { ...addressed, status: "error", error: err.message };
    throw err;
  }
}

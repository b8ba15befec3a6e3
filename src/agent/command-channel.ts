import type { Logger } from "pino";
import WebSocket from "ws";
import { type CommandReply, parseCommand } from "../commands/protocol.js";
import { retryDelayMs } from "../queue/backoff.js";
import { executeCommand } from "./commands.js";

export interface CommandChannelOptions {
  serverUrl: string;
  token: string;
  allowFanControl: boolean;
  allowIpmiRaw: boolean;
  ipmitool: string;
  log: Logger;
}

const RECONNECT_BASE_MS = 1_000;
const RECONNECT_CAP_MS = 60_000;
// A connection that lived this long was a working one: the next drop starts the backoff from the beginning. A
// server refusing the token closes at once, so such an agent keeps backing off instead of hammering it.
const STABLE_AFTER_MS = 10_000;
// The server pings every 30 s; three missed pings mean the link is dead even if TCP has not noticed yet.
const SILENCE_LIMIT_MS = 90_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** The server's /ws/agent address for an agent configured with its HTTP(S) base URL. */
export function commandSocketUrl(serverUrl: string): string {
  const url = new URL(serverUrl.endsWith("/") ? serverUrl : `${serverUrl}/`);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`server URL must be http:// or https://, got ${serverUrl}`);
  }
  const socketUrl = new URL("ws/agent", url);
  socketUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return socketUrl.toString();
}

/**
 * Keeps a WebSocket to the server open for remote commands and answers each one with its request id. Reconnects
 * with exponential backoff and jitter; a bad message gets an error reply (or is logged when it has no id) and never
 * ends the channel.
 */
export function startCommandChannel(options: CommandChannelOptions): { stop(): Promise<void> } {
  const url = commandSocketUrl(options.serverUrl);
  const log = options.log;
  const policy = {
    allowFanControl: options.allowFanControl,
    allowIpmiRaw: options.allowIpmiRaw,
    ipmitool: options.ipmitool,
  };
  let socket: WebSocket | undefined;
  let stopped = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let silenceTimer: NodeJS.Timeout | undefined;

  function watchSilence(ws: WebSocket): void {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => {
      log.warn("no ping from the server for 90 s; reconnecting the command channel");
      ws.terminate();
    }, SILENCE_LIMIT_MS);
  }

  function connect(): void {
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${options.token}` },
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_MESSAGE_BYTES,
    });
    socket = ws;
    let openedAt: number | undefined;
    ws.on("open", () => {
      openedAt = Date.now();
      log.info({ url }, "command channel connected");
      watchSilence(ws);
    });
    ws.on("ping", () => watchSilence(ws));
    ws.on("message", (data, isBinary) => {
      watchSilence(ws);
      void handle(ws, isBinary ? undefined : data.toString());
    });
    ws.on("error", (err) => log.debug({ err: err.message }, "command channel error"));
    ws.on("close", (code, reason) => {
      clearTimeout(silenceTimer);
      if (socket === ws) socket = undefined;
      if (stopped) return;
      failures = openedAt !== undefined && Date.now() - openedAt >= STABLE_AFTER_MS ? 1 : failures + 1;
      const delay = retryDelayMs(failures, RECONNECT_BASE_MS, RECONNECT_CAP_MS);
      log.warn(
        { code, reason: reason.toString(), retry_in_ms: delay },
        openedAt === undefined ? "command channel could not connect" : "command channel closed",
      );
      reconnectTimer = setTimeout(connect, delay);
    });
  }

  async function handle(ws: WebSocket, text: string | undefined): Promise<void> {
    let message: unknown;
    try {
      message = text === undefined ? undefined : JSON.parse(text);
    } catch {
      message = undefined;
    }
    const id = typeof message === "object" && message !== null ? (message as { id?: unknown }).id : undefined;
    if (typeof id !== "string" || id === "") {
      log.warn("ignored a command message without a request id");
      return;
    }
    const { command_type, command_data } = message as { command_type?: unknown; command_data?: unknown };
    const command = parseCommand(command_type, command_data ?? {});
    let reply: CommandReply;
    if (typeof command === "string") {
      reply = { id, status: "error", error: command };
    } else {
      try {
        reply = { id, status: "completed", result: await executeCommand(command, policy) };
      } catch (err) {
        reply = { id, status: "error", error: (err as Error).message };
      }
    }
    log.info({ id, command_type, status: reply.status }, "remote command handled");
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(reply));
    else log.warn({ id }, "command channel closed before the reply could be sent");
  }

  connect();

  return {
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearTimeout(silenceTimer);
      const ws = socket;
      if (!ws || ws.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        const grace = setTimeout(() => ws.terminate(), STOP_GRACE_MS);
        ws.once("close", () => {
          clearTimeout(grace);
          resolve();
        });
        ws.close(1000, "agent stopping");
      });
    },
  };
}

import type { Logger } from "pino";
import WebSocket from "ws";
import { iso } from "../lib/time.js";
import { type CommandReply, type CommandRequest, parseReply } from "./protocol.js";

export class AgentNotConnectedError extends Error {
  override name = "AgentNotConnectedError";
}
export class CommandTimeoutError extends Error {
  override name = "CommandTimeoutError";
}
/** The socket went away (closed, replaced, failed to send) while the command was outstanding. */
export class AgentDisconnectedError extends Error {
  override name = "AgentDisconnectedError";
}

/** Close codes the server uses on /ws/agent; 4000–4999 are free for applications (RFC 6455 §7.4.2). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_REPLACED = 4409;
const CLOSE_GOING_AWAY = 1001;

interface Connection {
  socket: WebSocket;
  connectedAt: string;
  /** Cleared before each ping, set by the pong; still clear at the next round means the peer is gone. */
  alive: boolean;
}

interface Pending {
  systemId: string;
  socket: WebSocket;
  timer: NodeJS.Timeout;
  resolve(reply: CommandReply): void;
  reject(err: Error): void;
}

export interface ConnectedSystem {
  system_id: string;
  connected_at: string;
}

/**
 * The live agent connections of this process, one per system, and the commands waiting for their answers. In
 * cluster mode each server process has its own hub: a command reaches an agent only through the process its
 * socket landed on.
 */
export class CommandHub {
  private readonly connections = new Map<string, Connection>();
  private readonly pending = new Map<string, Pending>();
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    pingIntervalMs = 30_000,
  ) {
    this.pinger = setInterval(() => this.pingAll(), pingIntervalMs);
    this.pinger.unref();
  }

  /** Takes over an authenticated socket; an older socket of the same system is closed, its commands fail. */
  attach(systemId: string, socket: WebSocket): void {
    const connection: Connection = { socket, connectedAt: iso(new Date()), alive: true };
    const previous = this.connections.get(systemId);
    this.connections.set(systemId, connection);
    if (previous) {
      this.log.info({ system_id: systemId }, "agent reconnected; closing its previous command socket");
      previous.socket.close(CLOSE_REPLACED, "replaced by a newer connection of the same system");
      this.failPending(previous.socket, "the agent connection was replaced");
    }
    socket.on("pong", () => {
      connection.alive = true;
    });
    socket.on("message", (data, isBinary) => this.receive(systemId, data, isBinary));
    socket.on("close", () => this.detach(systemId, socket));
    socket.on("error", (err) => this.log.warn({ system_id: systemId, err }, "agent command socket error"));
    this.log.info({ system_id: systemId }, "agent command channel connected");
  }

  isConnected(systemId: string): boolean {
    return this.connections.get(systemId)?.socket.readyState === WebSocket.OPEN;
  }

  connectedSystems(): ConnectedSystem[] {
    return [...this.connections]
      .filter(([, connection]) => connection.socket.readyState === WebSocket.OPEN)
      .map(([systemId, connection]) => ({ system_id: systemId, connected_at: connection.connectedAt }));
  }

  /** Sends one command and waits for the reply carrying its id. */
  send(systemId: string, request: CommandRequest, timeoutMs: number): Promise<CommandReply> {
    const connection = this.connections.get(systemId);
    if (!connection || connection.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new AgentNotConnectedError(`the agent of system ${systemId} is not connected`));
    }
    if (this.pending.has(request.id)) {
      return Promise.reject(new Error(`request id ${request.id} is already waiting for a reply`));
    }
    const { socket } = connection;
    return new Promise<CommandReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(request.id);
        reject(new CommandTimeoutError(`no reply from the agent within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(request.id, { systemId, socket, timer, resolve, reject });
      socket.send(JSON.stringify(request), (err) => {
        if (err) this.settle(request.id)?.reject(new AgentDisconnectedError(`sending failed: ${err.message}`));
      });
    });
  }

  /** Fails outstanding commands and closes every agent socket (server shutdown). */
  close(): void {
    clearInterval(this.pinger);
    for (const { socket } of this.connections.values()) {
      socket.close(CLOSE_GOING_AWAY, "server shutting down");
      this.failPending(socket, "the server is shutting down");
    }
    this.connections.clear();
  }

  private receive(systemId: string, data: WebSocket.RawData, isBinary: boolean): void {
    const reply = isBinary ? undefined : parseReply(data.toString());
    if (!reply) {
      this.log.warn({ system_id: systemId }, "ignored a message from an agent that is not a command reply");
      return;
    }
    const pending = this.pending.get(reply.id);
    if (!pending) {
      this.log.warn({ system_id: systemId, id: reply.id }, "ignored a reply to no outstanding command");
      return;
    }
    // Request ids are unguessable, but a system must never be able to answer for another one.
    if (pending.systemId !== systemId) {
      this.log.warn(
        { system_id: systemId, id: reply.id, expected_system_id: pending.systemId },
        "ignored a reply to another system's command",
      );
      return;
    }
    this.settle(reply.id)?.resolve(reply);
  }

  private settle(id: string): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(id);
    return pending;
  }

  private detach(systemId: string, socket: WebSocket): void {
    if (this.connections.get(systemId)?.socket === socket) {
      this.connections.delete(systemId);
      this.log.info({ system_id: systemId }, "agent command channel disconnected");
    }
    this.failPending(socket, "the agent disconnected before answering");
  }

  private failPending(socket: WebSocket, reason: string): void {
    for (const [id, pending] of this.pending) {
      if (pending.socket === socket) this.settle(id)?.reject(new AgentDisconnectedError(reason));
    }
  }

  private pingAll(): void {
    for (const connection of this.connections.values()) {
      if (!connection.alive) {
        // terminate() skips the closing handshake a dead peer would never finish; "close" then detaches it.
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }
}

import { createServer, type Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { AgentDisconnectedError, CommandHub } from "../../src/commands/hub.js";
import { closed, nextMessage, silentLog } from "./harness.js";

// The hub on its own, with a short ping interval, behind a plain ws server: every accepted socket belongs to the
// system named in its URL path.
describe("command hub keepalive", () => {
  let http: Server;
  let wss: WebSocketServer;
  let hub: CommandHub;
  let base: string;

  beforeEach(async () => {
    hub = new CommandHub(silentLog, 100);
    http = createServer();
    wss = new WebSocketServer({ server: http });
    wss.on("connection", (socket, request) => hub.attach((request.url ?? "/").slice(1), socket));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    base = `ws://127.0.0.1:${(http.address() as { port: number }).port}`;
  });

  afterEach(async () => {
    hub.close();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => http.close(resolve));
  });

  async function connect(systemId: string, autoPong: boolean): Promise<WebSocket> {
    const socket = new WebSocket(`${base}/${systemId}`, { autoPong });
    await new Promise((resolve) => socket.once("open", resolve));
    const deadline = Date.now() + 2000;
    while (!hub.isConnected(systemId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return socket;
  }

  it("drops a peer that stops answering pings and fails its outstanding command", async () => {
    const healthy = await connect("healthy", true);
    const dead = await connect("dead", false);
    const deadClosed = closed(dead);
    const pending = hub.send("dead", { id: "r1", command_type: "system_info", command_data: {} }, 5000);
    await expect(pending).rejects.toThrow(AgentDisconnectedError);
    await expect(pending).rejects.toThrow("the agent disconnected before answering");
    expect((await deadClosed).code).toBe(1006);
    expect(hub.isConnected("dead")).toBe(false);
    // Several ping rounds later the answering peer is still there.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(hub.connectedSystems().map((entry) => entry.system_id)).toEqual(["healthy"]);
    healthy.close();
  });

  it("fails outstanding commands and closes agents on shutdown", async () => {
    const agent = await connect("busy", true);
    const received = nextMessage(agent);
    const agentClosed = closed(agent);
    const pending = hub.send("busy", { id: "r2", command_type: "system_info", command_data: {} }, 5000);
    expect(await received).toEqual({ id: "r2", command_type: "system_info", command_data: {} });
    hub.close();
    await expect(pending).rejects.toThrow("the server is shutting down");
    expect(await agentClosed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(hub.connectedSystems()).toEqual([]);
  });
});

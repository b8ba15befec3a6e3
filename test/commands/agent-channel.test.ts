import type { IncomingMessage } from "node:http";
import { createServer, type Server } from "node:http";
import os from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { commandSocketUrl, startCommandChannel } from "../../src/agent/command-channel.js";
import { closed, nextMessage, silentLog } from "./harness.js";

// The agent against a WebSocket server the test drives by hand, so it can send what a real server never would.
describe("agent command channel", () => {
  let http: Server;
  let wss: WebSocketServer;
  let base: string;
  const connections: { socket: WebSocket; request: IncomingMessage; at: number }[] = [];
  let channel: { stop(): Promise<void> } | undefined;

  async function connection(index: number, timeoutMs = 5000): Promise<WebSocket> {
    const deadline = Date.now() + timeoutMs;
    while (connections.length <= index) {
      if (Date.now() > deadline) throw new Error(`agent connection #${index + 1} did not arrive`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return (connections[index] as { socket: WebSocket }).socket;
  }

  beforeEach(async () => {
    connections.length = 0;
    http = createServer();
    wss = new WebSocketServer({ server: http, path: "/fleet/ws/agent" });
    wss.on("connection", (socket, request) => connections.push({ socket, request, at: Date.now() }));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const address = http.address() as { port: number };
    base = `http://127.0.0.1:${address.port}/fleet`;
  });

  afterEach(async () => {
    await channel?.stop();
    channel = undefined;
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => http.close(resolve));
  });

  it("derives the socket address from the server URL", () => {
    expect(commandSocketUrl("https://mon.example.org/fleet")).toBe("wss://mon.example.org/fleet/ws/agent");
    expect(commandSocketUrl("http://10.0.0.5:8443/")).toBe("ws://10.0.0.5:8443/ws/agent");
    expect(() => commandSocketUrl("ftp://mon.example.org")).toThrow("server URL must be http:// or https://");
  });

  it("authenticates with its bearer token and answers each message by id, surviving bad ones", async () => {
    channel = startCommandChannel({
      serverUrl: base,
      token: "flc_FL-AAAA_secret",
      allowFanControl: false,
      allowIpmiRaw: false,
      ipmitool: "/nonexistent/ipmitool",
      log: silentLog,
    });
    const socket = await connection(0);
    expect(connections[0]?.request.headers.authorization).toBe("Bearer flc_FL-AAAA_secret");

    const replies: Record<string, unknown>[] = [];
    socket.on("message", (data) => replies.push(JSON.parse(data.toString()) as Record<string, unknown>));
    socket.send("{not json");
    socket.send(Buffer.from([1, 2, 3]), { binary: true });
    socket.send(JSON.stringify({ command_type: "system_info", command_data: {} }));
    socket.send(JSON.stringify({ id: "a", command_type: "reboot", command_data: {} }));
    socket.send(JSON.stringify({ id: "b", command_type: "fan_control", command_data: { mode: "full_speed" } }));
    socket.send(JSON.stringify({ id: "c", command_type: "ipmi_raw", command_data: { args: ["0x06", "0x01"] } }));
    socket.send(JSON.stringify({ id: "d", command_type: "system_info", command_data: {} }));
    const deadline = Date.now() + 5000;
    while (replies.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));

    // The three messages without an id got no answer: the first four replies are exactly a–d.
    expect(replies.slice(0, 3)).toEqual([
      { id: "a", status: "error", error: "command_type must be one of fan_control, ipmi_raw, system_info" },
      { id: "b", status: "error", error: "fan_control is disabled in this agent's configuration" },
      { id: "c", status: "error", error: "ipmi_raw is disabled in this agent's configuration" },
    ]);
    expect(replies[3]).toMatchObject({ id: "d", status: "completed", result: { hostname: os.hostname() } });
    expect(replies).toHaveLength(4);
  });

  it("reports a missing ipmitool as the command's error", async () => {
    channel = startCommandChannel({
      serverUrl: base,
      token: "flc_FL-AAAA_secret",
      allowFanControl: true,
      allowIpmiRaw: true,
      ipmitool: "/nonexistent/ipmitool",
      log: silentLog,
    });
    const socket = await connection(0);
    const reply = nextMessage(socket);
    socket.send(JSON.stringify({ id: "x", command_type: "fan_control", command_data: { zone: 0, percent: 40 } }));
    expect(await reply).toEqual({ id: "x", status: "error", error: "ipmitool not found at /nonexistent/ipmitool" });
  });

  it("reconnects with a backoff after the server closes, and stops for good on stop()", async () => {
    channel = startCommandChannel({
      serverUrl: base,
      token: "flc_FL-AAAA_secret",
      allowFanControl: false,
      allowIpmiRaw: false,
      ipmitool: "ipmitool",
      log: silentLog,
    });
    const first = await connection(0);
    const firstClosedAt = Date.now();
    first.close(4401, "a valid agent token is required");
    const second = await connection(1);
    // First retry waits 0.5–1 s (1 s base with jitter), the second 1–2 s: never an immediate hammering.
    expect((connections[1]?.at ?? 0) - firstClosedAt).toBeGreaterThanOrEqual(450);
    const reply = nextMessage(second);
    second.send(JSON.stringify({ id: "after", command_type: "system_info", command_data: {} }));
    expect(await reply).toMatchObject({ id: "after", status: "completed" });

    const secondClosed = closed(second);
    await channel.stop();
    channel = undefined;
    expect(await secondClosed).toEqual({ code: 1000, reason: "agent stopping" });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(connections).toHaveLength(2);
  });

  it("keeps retrying while the server is unreachable", async () => {
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => http.close(resolve));
    const port = Number(new URL(base).port);
    channel = startCommandChannel({
      serverUrl: base,
      token: "flc_FL-AAAA_secret",
      allowFanControl: false,
      allowIpmiRaw: false,
      ipmitool: "ipmitool",
      log: silentLog,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    http = createServer();
    wss = new WebSocketServer({ server: http, path: "/fleet/ws/agent" });
    wss.on("connection", (socket, request) => connections.push({ socket, request, at: Date.now() }));
    await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
    const socket = await connection(0, 8000);
    expect(socket.readyState).toBe(WebSocket.OPEN);
  });
});

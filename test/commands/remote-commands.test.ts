import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCommandChannel } from "../../src/agent/command-channel.js";
import { DIALECTS } from "../helpers/env.js";
import {
  type AgentSystem,
  type CommandServer,
  closed,
  nextMessage,
  openRawAgent,
  silentLog,
  startCommandServer,
} from "./harness.js";

describe.each(DIALECTS)("remote commands over /ws/agent (%s)", (dialect) => {
  let server: CommandServer;
  let locked: AgentSystem; // agent with fan control but no ipmi_raw
  let open: AgentSystem; // agent allowing ipmi_raw
  const channels: { stop(): Promise<void> }[] = [];

  function startAgent(system: AgentSystem, allowIpmiRaw: boolean) {
    const channel = startCommandChannel({
      serverUrl: server.base,
      token: system.token,
      allowFanControl: true,
      allowIpmiRaw,
      ipmitool: server.ipmitool,
      log: silentLog,
    });
    channels.push(channel);
    return channel;
  }

  async function auditOf(systemId: string) {
    const { body } = await server.get(`/api/audit?system_id=${systemId}`);
    return body.entries as Record<string, unknown>[];
  }

  beforeAll(async () => {
    server = await startCommandServer(dialect);
    locked = await server.newSystem("gpu-01");
    open = await server.newSystem("gpu-02");
    startAgent(locked, false);
    startAgent(open, true);
    await server.waitFor(
      () => server.ctx.commands.isConnected(locked.id) && server.ctx.commands.isConnected(open.id),
      "both agents to connect",
    );
  });

  afterAll(async () => {
    await Promise.all(channels.map((channel) => channel.stop()));
    await server?.cleanup();
  });

  it("lists connected agents", () => {
    const connected = server.ctx.commands.connectedSystems().map((entry) => entry.system_id);
    expect(connected.sort()).toEqual([locked.id, open.id].sort());
  });

  it("answers system_info with the agent host's facts and audits who asked", async () => {
    const { status, body } = await server.post("/api/commands", {
      system_id: locked.id,
      command_type: "system_info",
      command_data: {},
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ system_id: locked.id, command_type: "system_info", status: "completed" });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    const result = body.result as Record<string, unknown>;
    expect(result.hostname).toBe(os.hostname());
    expect(result.kernel).toBe(os.release());
    expect(result.cpus).toBe(os.cpus().length);
    expect(result.memory_total_bytes).toBe(os.totalmem());

    const [entry] = await auditOf(locked.id);
    expect(entry).toMatchObject({
      actor: `ci-admin (token ${server.adminTokenId})`,
      action: "command.system_info",
      system_id: locked.id,
      outcome: "ok",
      detail: { id: body.id, command_data: {}, timeout_seconds: 30 },
    });
    expect(entry?.result).toMatchObject({ hostname: os.hostname() });
  });

  it("runs fan_control as the exact ipmitool argv, for a mode and for a zone duty cycle", async () => {
    const before = server.ipmitoolCalls().length;
    const mode = await server.post("/api/commands", {
      system_id: locked.id,
      command_type: "fan_control",
      command_data: { mode: "heavy_io" },
    });
    expect(mode.status).toBe(200);
    expect(mode.body.result).toEqual({ args: ["raw", "0x30", "0x45", "0x01", "0x04"], stdout: "" });
    const zone = await server.post("/api/commands", {
      system_id: locked.id,
      command_type: "fan_control",
      command_data: { zone: 1, percent: 75 },
    });
    expect(zone.status).toBe(200);
    const shortcut = await server.post(`/api/clients/${locked.id}/command/fan-mode`, { mode: "full_speed" });
    expect(shortcut.status).toBe(200);
    expect(shortcut.body).toMatchObject({ command_type: "fan_control", status: "completed" });
    expect(server.ipmitoolCalls().slice(before)).toEqual([
      "raw 0x30 0x45 0x01 0x04",
      "raw 0x30 0x70 0x66 0x01 0x01 0x4b",
      "raw 0x30 0x45 0x01 0x01",
    ]);
    const entries = await auditOf(locked.id);
    expect(entries.slice(0, 3).map((entry) => [entry.action, entry.outcome, entry.detail])).toEqual([
      [
        "command.fan_control",
        "ok",
        { id: shortcut.body.id, command_data: { mode: "full_speed" }, timeout_seconds: 30 },
      ],
      ["command.fan_control", "ok", { id: zone.body.id, command_data: { zone: 1, percent: 75 }, timeout_seconds: 30 }],
      ["command.fan_control", "ok", { id: mode.body.id, command_data: { mode: "heavy_io" }, timeout_seconds: 30 }],
    ]);
  });

  it("refuses ipmi_raw on an agent that does not allow it, without running ipmitool", async () => {
    const before = server.ipmitoolCalls().length;
    const { status, body } = await server.post("/api/commands", {
      system_id: locked.id,
      command_type: "ipmi_raw",
      command_data: { args: ["0x06", "0x01"] },
    });
    expect(status).toBe(502);
    expect(body).toMatchObject({
      error: "agent_error",
      message: "ipmi_raw is disabled in this agent's configuration",
      status: "error",
      command_type: "ipmi_raw",
    });
    expect(server.ipmitoolCalls().length).toBe(before);
    const [entry] = await auditOf(locked.id);
    expect(entry).toMatchObject({
      action: "command.ipmi_raw",
      outcome: "error",
      result: { error: "ipmi_raw is disabled in this agent's configuration" },
    });
  });

  it("runs ipmi_raw where allowed and reports ipmitool's own failure", async () => {
    const ok = await server.post("/api/commands", {
      system_id: open.id,
      command_type: "ipmi_raw",
      command_data: { args: ["0x06", "0x01"] },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.result).toEqual({
      args: ["raw", "0x06", "0x01"],
      stdout: "20 81 03 31 02 bf 7c 2a 00 94 09 00 00 00 00",
    });
    const failed = await server.post("/api/commands", {
      system_id: open.id,
      command_type: "ipmi_raw",
      command_data: { args: ["0x30", "0x99"] },
    });
    expect(failed.status).toBe(502);
    expect(failed.body.message).toBe(
      "ipmitool exited with code 1: Unable to send RAW command (channel=0x0 netfn=0x30 lun=0x0 cmd=0x99 rsp=0xc1): Invalid Command",
    );
    expect(server.ipmitoolCalls().slice(-2)).toEqual(["raw 0x06 0x01", "raw 0x30 0x99"]);
  });

  it("answers 504 and audits a timeout when the agent never replies", async () => {
    const mute = await server.newSystem("mute-01");
    const socket = await openRawAgent(server.base, mute.token);
    await server.waitFor(() => server.ctx.commands.isConnected(mute.id), "the raw agent to attach");
    const received = nextMessage(socket);
    const started = Date.now();
    const { status, body } = await server.post("/api/commands", {
      system_id: mute.id,
      command_type: "system_info",
      timeout_seconds: 0.3,
    });
    expect(status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(body).toMatchObject({
      error: "timeout",
      status: "timeout",
      message: "no reply from the agent within 0.3 s",
    });
    expect(await received).toEqual({ id: body.id, command_type: "system_info", command_data: {} });
    // A reply after the deadline finds nothing waiting and changes nothing.
    socket.send(JSON.stringify({ id: body.id, status: "completed", result: { late: true } }));
    const [entry] = await auditOf(mute.id);
    expect(entry).toMatchObject({ outcome: "timeout", result: { error: "no reply from the agent within 0.3 s" } });
    socket.close();
  });

  it("ignores a reply that another system sends for a command it was not given", async () => {
    const target = await server.newSystem("target-01");
    const intruder = await server.newSystem("intruder-01");
    const targetSocket = await openRawAgent(server.base, target.token);
    const intruderSocket = await openRawAgent(server.base, intruder.token);
    await server.waitFor(
      () => server.ctx.commands.isConnected(target.id) && server.ctx.commands.isConnected(intruder.id),
      "both raw agents to attach",
    );
    const command = nextMessage(targetSocket);
    const response = server.post("/api/commands", { system_id: target.id, command_type: "system_info" });
    const { id } = await command;
    intruderSocket.send(JSON.stringify({ id, status: "completed", result: { forged: true } }));
    intruderSocket.send("not json at all");
    // Give the forged reply time to arrive first; the genuine one must still be the answer.
    await new Promise((resolve) => setTimeout(resolve, 100));
    targetSocket.send(JSON.stringify({ id, status: "completed", result: { genuine: true } }));
    const { status, body } = await response;
    expect(status).toBe(200);
    expect(body.result).toEqual({ genuine: true });
    targetSocket.close();
    intruderSocket.close();
  });

  it("closes agent sockets without a valid token with 4401", async () => {
    const anonymous = await openRawAgent(server.base, undefined);
    expect(await closed(anonymous)).toEqual({
      code: 4401,
      reason: "a valid agent token is required (Authorization: Bearer flc_...)",
    });
    const forged = await openRawAgent(server.base, `${locked.token}x`);
    expect((await closed(forged)).code).toBe(4401);
    const adminToken = await openRawAgent(server.base, server.admin);
    expect((await closed(adminToken)).code).toBe(4401);
    // The forged token named gpu-01's key; its real agent must still be the one connected.
    expect(server.ctx.commands.isConnected(locked.id)).toBe(true);
  });

  it("replaces an older socket of the same system with the newer one", async () => {
    const system = await server.newSystem("twice-01");
    const first = await openRawAgent(server.base, system.token);
    await server.waitFor(() => server.ctx.commands.isConnected(system.id), "the first socket to attach");
    const firstClosed = closed(first);
    const second = await openRawAgent(server.base, system.token);
    expect(await firstClosed).toEqual({ code: 4409, reason: "replaced by a newer connection of the same system" });
    expect(server.ctx.commands.isConnected(system.id)).toBe(true);
    const command = nextMessage(second);
    const response = server.post("/api/commands", { system_id: system.id, command_type: "system_info" });
    const { id } = await command;
    second.send(JSON.stringify({ id, status: "error", error: "busy" }));
    expect(await response).toMatchObject({ status: 502, body: { message: "busy", status: "error" } });
    second.close();
  });

  it("refuses with 409 and audits when the system's agent is offline", async () => {
    const offline = await server.newSystem("offline-01");
    const { status, body } = await server.post("/api/commands", {
      system_id: offline.id,
      command_type: "fan_control",
      command_data: { mode: "optimal" },
    });
    expect(status).toBe(409);
    expect(body).toMatchObject({
      error: "not_connected",
      status: "refused",
      message: `the agent of system ${offline.id} is not connected`,
    });
    const [entry] = await auditOf(offline.id);
    expect(entry).toMatchObject({ action: "command.fan_control", outcome: "refused" });
  });

  it("rejects bad input with 4xx and audits nothing", async () => {
    const before = ((await server.get("/api/audit?limit=1000")).body.entries as unknown[]).length;
    const cases: [unknown, number, string][] = [
      [{ system_id: locked.id, command_type: "fan_control", command_data: { mode: "turbo" } }, 400, "mode must be"],
      [
        { system_id: locked.id, command_type: "fan_control", command_data: { zone: 0, percent: 101 } },
        400,
        "percent must be an integer from 0 to 100",
      ],
      [
        { system_id: open.id, command_type: "ipmi_raw", command_data: { args: ["0x06", "; reboot"] } },
        400,
        'args[1] is not a hex byte like "0x30"',
      ],
      [{ system_id: locked.id, command_type: "reboot" }, 400, "command_type"],
      [{ system_id: locked.id, command_type: "system_info", timeout_seconds: 601 }, 400, "timeout_seconds"],
      [{ system_id: "no-such-system", command_type: "system_info" }, 404, "no system no-such-system"],
    ];
    for (const [body, status, message] of cases) {
      const response = await server.post("/api/commands", body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.message).toContain(message);
    }
    const malformed = await fetch(`${server.base}/api/commands`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.admin}`, "content-type": "application/json" },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(((await server.get("/api/audit?limit=1000")).body.entries as unknown[]).length).toBe(before);
  });

  it("is for admins only", async () => {
    const body = { system_id: locked.id, command_type: "system_info" };
    expect((await server.post("/api/commands", body, server.viewer)).status).toBe(403);
    expect((await server.get("/api/audit", server.viewer)).status).toBe(403);
    expect(
      (await server.post(`/api/clients/${locked.id}/command/fan-mode`, { mode: "optimal" }, server.viewer)).status,
    ).toBe(403);
    const anonymous = await fetch(`${server.base}/api/commands`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(anonymous.status).toBe(401);
  });

  it("reconnects after the server drops the socket and serves commands again", async () => {
    for (const client of server.app.websocketServer.clients) client.terminate();
    await server.waitFor(() => server.ctx.commands.connectedSystems().length === 0, "the hub to notice the drop");
    await server.waitFor(
      () => server.ctx.commands.isConnected(locked.id) && server.ctx.commands.isConnected(open.id),
      "both agents to reconnect",
      5000,
    );
    const { status } = await server.post("/api/commands", { system_id: open.id, command_type: "system_info" });
    expect(status).toBe(200);
  });
});

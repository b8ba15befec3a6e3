import { describe, expect, it } from "vitest";
import { fanControlArgs } from "../../src/agent/commands.js";
import { parseCommand, parseReply } from "../../src/commands/protocol.js";

describe("command protocol", () => {
  it("accepts the documented command shapes", () => {
    expect(parseCommand("system_info", {})).toEqual({ type: "system_info", data: {} });
    expect(parseCommand("fan_control", { mode: "optimal" })).toEqual({
      type: "fan_control",
      data: { mode: "optimal" },
    });
    expect(parseCommand("fan_control", { zone: 255, percent: 0 })).toEqual({
      type: "fan_control",
      data: { zone: 255, percent: 0 },
    });
    expect(parseCommand("ipmi_raw", { args: ["0x30", "0x45", "0x0"] })).toEqual({
      type: "ipmi_raw",
      data: { args: ["0x30", "0x45", "0x0"] },
    });
  });

  it.each([
    ["fan_control", { mode: "toString" }, "fan_control: mode must be one of standard, full_speed, optimal, heavy_io"],
    [
      "fan_control",
      { mode: "optimal", zone: 1 },
      "fan_control: unexpected field(s) zone; send either {mode} or {zone, percent}",
    ],
    ["fan_control", { zone: 1.5, percent: 10 }, "fan_control: zone must be an integer from 0 to 255"],
    ["fan_control", { zone: 1 }, "fan_control: percent must be an integer from 0 to 100"],
    ["fan_control", {}, "fan_control: command_data needs {mode} or {zone, percent}"],
    ["ipmi_raw", { args: ["0x06"] }, 'ipmi_raw: args must be an array of 2 to 64 hex bytes such as "0x30"'],
    ["ipmi_raw", { args: ["0x06", "0x100"] }, 'ipmi_raw: args[1] is not a hex byte like "0x30"'],
    ["ipmi_raw", { args: ["6", "1"] }, 'ipmi_raw: args[0] is not a hex byte like "0x30"'],
    ["ipmi_raw", { args: "0x06 0x01" }, 'ipmi_raw: args must be an array of 2 to 64 hex bytes such as "0x30"'],
    ["system_info", { verbose: true }, "system_info: unexpected field(s) verbose"],
    ["system_info", [], "command_data must be an object"],
    ["shell", {}, "command_type must be one of fan_control, ipmi_raw, system_info"],
  ])("rejects %s %j", (type, data, message) => {
    expect(parseCommand(type, data)).toBe(message);
  });

  it("maps fan commands to Supermicro raw bytes", () => {
    expect(fanControlArgs({ mode: "standard" })).toEqual(["raw", "0x30", "0x45", "0x01", "0x00"]);
    expect(fanControlArgs({ mode: "full_speed" })).toEqual(["raw", "0x30", "0x45", "0x01", "0x01"]);
    expect(fanControlArgs({ mode: "optimal" })).toEqual(["raw", "0x30", "0x45", "0x01", "0x02"]);
    expect(fanControlArgs({ mode: "heavy_io" })).toEqual(["raw", "0x30", "0x45", "0x01", "0x04"]);
    expect(fanControlArgs({ zone: 0, percent: 100 })).toEqual(["raw", "0x30", "0x70", "0x66", "0x01", "0x00", "0x64"]);
    expect(fanControlArgs({ zone: 16, percent: 5 })).toEqual(["raw", "0x30", "0x70", "0x66", "0x01", "0x10", "0x05"]);
  });

  it("reads only well-formed replies", () => {
    expect(parseReply('{"id":"a","status":"completed","result":{"x":1}}')).toEqual({
      id: "a",
      status: "completed",
      result: { x: 1 },
    });
    expect(parseReply('{"id":"a","status":"error","error":"no"}')).toEqual({ id: "a", status: "error", error: "no" });
    for (const text of [
      "{",
      "[]",
      '{"status":"completed","result":{}}',
      '{"id":"","status":"error","error":"x"}',
      '{"id":"a","status":"completed","result":[1]}',
      '{"id":"a","status":"error"}',
      '{"id":"a","status":"done","result":{}}',
    ]) {
      expect(parseReply(text), text).toBeUndefined();
    }
  });
});

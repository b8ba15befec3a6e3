import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/lib/duration.js";

describe("parseDuration", () => {
  it("reads paas-billing's Go durations", () => {
    expect(parseDuration("1m")).toBe(60_000);
    expect(parseDuration("3s")).toBe(3_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5s")).toBe(1_500);
    expect(parseDuration("0")).toBe(0);
  });

  it("rejects anything else", () => {
    for (const bad of ["", "5", "m", "5 minutes", "1d", "-1s", "1m x"]) expect(parseDuration(bad), bad).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { formatCountdown, formatKes, formatNairobi, nairobiToIso } from "./format";

describe("formatting", () => {
  it("shows money as KES with thousands", () => {
    expect(formatKes(2500)).toBe("KES\u00a02,500");
    expect(formatKes(250000)).toBe("KES\u00a0250,000");
  });
  it("shows times on the Nairobi clock", () => {
    expect(formatNairobi("2026-12-01T11:00:00Z")).toMatch(/14:00/);
  });
  it("reads a Nairobi wall-clock time with its offset", () => {
    expect(new Date(nairobiToIso("2026-12-01", "14:00")).toISOString()).toBe("2026-12-01T11:00:00.000Z");
  });
  it("counts down in minutes and seconds", () => {
    expect(formatCountdown(59.2)).toBe("1:00");
    expect(formatCountdown(5)).toBe("0:05");
    expect(formatCountdown(-3)).toBe("0:00");
  });
});

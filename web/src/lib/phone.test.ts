import { describe, expect, it } from "vitest";
import { displayPhone, formatPhoneInput, normalisePhone, phoneError } from "./phone";

describe("normalisePhone", () => {
  it.each([
    ["0712345678", "254712345678"],
    ["0112 345 678", "254112345678"],
    ["+254 712 345 678", "254712345678"],
    ["254712345678", "254712345678"],
    ["(0712) 345-678", "254712345678"],
  ])("accepts %s", (typed, expected) => {
    expect(normalisePhone(typed)).toBe(expected);
  });

  it.each(["", "0812345678", "071234567", "07123456789", "+255712345678", "abc"])(
    "refuses %s",
    (typed) => {
      expect(normalisePhone(typed)).toBeNull();
    },
  );
});

describe("phoneError", () => {
  it("names the accepted formats", () => {
    expect(phoneError("0812")).toMatch(/07XX XXX XXX, 01XX XXX XXX, 2547XX XXX XXX or \+2547XX XXX XXX/);
  });
  it("is null for a valid number", () => {
    expect(phoneError("0712 345 678")).toBeNull();
  });
});

describe("formatPhoneInput", () => {
  it.each([
    ["0712345678", "0712 345 678"],
    ["07123", "0712 3"],
    ["+254712345678", "+254 712 345 678"],
    ["254712345678", "254 712 345 678"],
    ["07a1-2", "0712"],
    ["0712345678999", "0712 345 678 99"],
  ])("formats %s as %s", (typed, shown) => {
    expect(formatPhoneInput(typed)).toBe(shown);
  });

  it("shows a stored number the local way", () => {
    expect(displayPhone("254712345678")).toBe("0712 345 678");
    expect(displayPhone(null)).toBe("");
  });
});

import { describe, expect, it } from "vitest";
import { ApiError, describeError } from "./client";

describe("API errors", () => {
  it("shows the server's detail for a refusal", () => {
    const error = new ApiError(409, { error: "PaymentBlocked", detail: "A payment is already waiting on your phone." });
    expect(describeError(error)).toBe("A payment is already waiting on your phone.");
    expect(error.code).toBe("PaymentBlocked");
  });
  it("finds the message of one field", () => {
    const error = new ApiError(422, {
      error: "RequestValidationError",
      detail: "body.phone: not a Kenyan mobile number",
      fields: [{ field: "body.phone", message: "not a Kenyan mobile number; use 07XXXXXXXX" }],
    });
    expect(error.fieldMessage("phone")).toMatch(/not a Kenyan mobile number/);
    expect(error.fieldMessage("email")).toBeUndefined();
  });
  it("never shows a server error's internals", () => {
    expect(describeError(new ApiError(500, { error: "InternalServerError", detail: "boom" }))).toMatch(/Nothing was charged/);
  });
  it("says when the server cannot be reached", () => {
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/could not reach the server/);
  });
  it("asks to sign in again on 401", () => {
    expect(describeError(new ApiError(401, undefined))).toMatch(/Sign in again/);
  });
});

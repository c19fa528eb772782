import { describe, expect, it } from "vitest";
import type { User } from "../api/client";
import { homeFor, landingFor } from "./home";

const client = { role: "client" } as User;
const therapist = { role: "therapist" } as User;

describe("where signing in lands", () => {
  it("returns to the private page that asked for it, with its query", () => {
    expect(landingFor(client, { from: "/orders/o1?paid=1" })).toBe("/orders/o1?paid=1");
  });

  it("goes home when no page asked", () => {
    expect(landingFor(client, null)).toBe(homeFor(client));
    expect(landingFor(therapist, undefined)).toBe("/sessions");
    expect(landingFor(client, { from: 42 })).toBe("/therapists");
  });

  it("never leaves the app", () => {
    expect(landingFor(client, { from: "//evil.example/x" })).toBe("/therapists");
    expect(landingFor(client, { from: "https://evil.example" })).toBe("/therapists");
  });
});

import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import type { Booking } from "../api/client";
import { Sessions } from "./Sessions";

// The API client keeps the fetch it was made with, so the stand-in is in place before it loads.
const server = vi.hoisted(() => {
  const state = { bookings: [] as unknown[], posted: [] as { url: string; body: string }[] };
  globalThis.fetch = async (input: RequestInfo | URL) => {
    const request = input as Request;
    if (request.method === "POST") {
      state.posted.push({ url: request.url, body: await request.text() });
      return new Response("{}", { status: 200, headers: { "Content-Type": "application/json" } });
    }
    const page = { items: state.bookings, page: 1, page_size: 100, total: state.bookings.length };
    return new Response(JSON.stringify(page), {
      status: 200,
      headers: { "Content-Type": "application/json" },
    });
  };
  return state;
});

const later = new Date(Date.now() + 2 * 24 * 3600 * 1000).toISOString();

function booking(id: string, client: string, overrides: Partial<Booking>): Booking {
  return {
    id,
    client: { id: `c-${id}`, full_name: client },
    therapist: { id: "t1", full_name: "Dr. Wanjiru Kamau" },
    session_type: "individual",
    scheduled_at: later,
    duration_minutes: 60,
    price: 2500,
    currency: "KES",
    status: "approved",
    notes: "",
    decline_reason: null,
    approved_at: null,
    confirmed_at: null,
    cancelled_at: null,
    payment: { status: "unpaid", receipt_number: null, paid_at: null, reason: null, last_attempt_id: null },
    created_at: later,
    updated_at: later,
    ...overrides,
  };
}

function renderSessions() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <Sessions />
    </QueryClientProvider>,
  );
}

describe("the therapist's sessions", () => {
  it("tells paid from unpaid in words, with the receipt on the paid one", async () => {
    server.bookings = [
      booking("b1", "Amina Otieno", {
        status: "confirmed",
        payment: { status: "paid", receipt_number: "SLK4H7R2QX", paid_at: later, reason: null, last_attempt_id: "a1" },
      }),
      booking("b2", "Brian Mwangi", {}),
    ];
    renderSessions();
    const sessions = await screen.findAllByTestId("session");
    const [paid, unpaid] = sessions as [HTMLElement, HTMLElement];
    expect(paid).toHaveTextContent("Amina Otieno");
    expect(within(paid).getByText(/^Paid$/)).toBeInTheDocument();
    expect(paid).toHaveTextContent("SLK4H7R2QX");
    expect(unpaid).toHaveTextContent("Brian Mwangi");
    expect(within(unpaid).getByText(/^Unpaid$/)).toBeInTheDocument();
    expect(unpaid).not.toHaveTextContent(/receipt/i);
  });

  it("declines a request with the reason the client will read", async () => {
    server.bookings = [booking("b3", "Faith Chebet", { status: "pending_approval" })];
    server.posted = [];
    renderSessions();
    await userEvent.click(await screen.findByRole("button", { name: "Decline Faith Chebet's request" }));
    await userEvent.type(screen.getByLabelText(/Why are you declining/), "Fully booked that week");
    await userEvent.click(screen.getByRole("button", { name: "Decline request" }));
    await vi.waitFor(() => expect(server.posted).toHaveLength(1));
    expect(server.posted[0]?.url).toMatch(/\/v1\/bookings\/b3\/decline$/);
    expect(JSON.parse(server.posted[0]?.body ?? "{}")).toEqual({ reason: "Fully booked that week" });
  });
});

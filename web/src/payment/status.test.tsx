import { act, render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Attempt } from "../api/client";
import { POLL_INTERVAL_MS, useAttemptStatus } from "./status";

// The API client keeps the fetch it was made with, so the stand-in is in place before it loads.
const calls = vi.hoisted(() => {
  const state = { urls: [] as string[], answer: null as unknown };
  globalThis.fetch = async (input: RequestInfo | URL) => {
    state.urls.push(input instanceof Request ? input.url : String(input));
    return new Response(JSON.stringify(state.answer), {
      status: 200,
      headers: { "Content-Type": "application/json" },
    });
  };
  return state;
});

class FailingEventSource {
  static made = 0;
  onerror: (() => void) | null = null;
  constructor() {
    FailingEventSource.made += 1;
    setTimeout(() => this.onerror?.(), 0);
  }
  addEventListener() {}
  close() {}
}

/** A stream that sends the given states, then ends as the server ends it (an error event). */
class ScriptedEventSource {
  static script: Attempt[] = [];
  static closed = 0;
  listeners: ((event: MessageEvent<string>) => void)[] = [];
  onerror: (() => void) | null = null;
  constructor() {
    setTimeout(() => {
      for (const attempt of ScriptedEventSource.script) {
        const event = new MessageEvent("status", { data: JSON.stringify(attempt) });
        this.listeners.forEach((l) => l(event));
      }
      this.onerror?.();
    }, 0);
  }
  addEventListener(_type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.push(listener);
  }
  close() {
    ScriptedEventSource.closed += 1;
  }
}

const processing: Attempt = {
  id: "a1",
  payable_type: "deposit",
  payable_id: "d1",
  attempt_number: 1,
  amount: 500,
  phone: "254*****5678",
  status: "processing",
  customer_message: "Check your phone and enter your M-Pesa PIN to pay KES 500.",
  receipt_number: null,
  reason: null,
  retry_hint: null,
  can_retry: false,
  account_reference: "WL0123456789",
  version: 1,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
  paid_at: null,
};

function Probe() {
  const { attempt, polling } = useAttemptStatus(processing);
  return (
    <p>
      {attempt.status} {polling ? "polling" : "streaming"} {attempt.receipt_number}
    </p>
  );
}

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  vi.stubGlobal("EventSource", FailingEventSource);
  calls.urls = [];
  calls.answer = processing;
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("an attempt's live status", () => {
  it("polls every 3 s once the stream fails, until the attempt is final", async () => {
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={client}>
        <Probe />
      </QueryClientProvider>,
    );
    await act(async () => vi.advanceTimersByTimeAsync(10));
    expect(FailingEventSource.made).toBe(1);
    expect(screen.getByText(/processing polling/)).toBeInTheDocument();
    expect(calls.urls.filter((u) => u.endsWith("/v1/payments/a1"))).toHaveLength(1);

    await act(async () => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS));
    expect(calls.urls.filter((u) => u.endsWith("/v1/payments/a1"))).toHaveLength(2);

    calls.answer = { ...processing, status: "paid", version: 2, receipt_number: "SLK4H7R2QX" };
    await act(async () => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS));
    expect(screen.getByText(/paid polling SLK4H7R2QX/)).toBeInTheDocument();

    await act(async () => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3));
    expect(calls.urls.filter((u) => u.endsWith("/v1/payments/a1"))).toHaveLength(3);
    expect(FailingEventSource.made).toBe(1);
  });

  it("keeps asking after a paid status that came before its receipt", async () => {
    const paidWithoutReceipt = { ...processing, status: "paid" as const, version: 2 };
    ScriptedEventSource.script = [paidWithoutReceipt];
    vi.stubGlobal("EventSource", ScriptedEventSource);
    calls.answer = paidWithoutReceipt;
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={client}>
        <Probe />
      </QueryClientProvider>,
    );
    await act(async () => vi.advanceTimersByTimeAsync(10));
    expect(screen.getByText(/^paid polling\s*$/)).toBeInTheDocument();

    calls.answer = { ...paidWithoutReceipt, receipt_number: "SLK4H7R2QX" };
    await act(async () => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS + 100));
    expect(screen.getByText(/paid polling SLK4H7R2QX/)).toBeInTheDocument();
    const asked = calls.urls.length;
    await act(async () => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3));
    expect(calls.urls).toHaveLength(asked);
  });
});

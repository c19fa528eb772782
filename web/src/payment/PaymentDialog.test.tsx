import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AppConfig, Attempt } from "../api/client";
import { PaymentDialog } from "./PaymentDialog";

/** Stands in for the browser's EventSource: the test sends the stream's events. */
class FakeEventSource {
  static last: FakeEventSource | null = null;
  listeners: ((event: MessageEvent<string>) => void)[] = [];
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(_type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.push(listener);
  }
  close() {
    this.closed = true;
  }
  send(attempt: Attempt) {
    const event = new MessageEvent("status", { data: JSON.stringify(attempt) });
    act(() => this.listeners.forEach((l) => l(event)));
  }
}

const CONFIG: AppConfig = {
  environment: "production",
  test_mode: false,
  deployment: "production",
  business_name: "Tiba Therapy",
  paybill_number: "174379",
  prompt_window_s: 60,
  currency: "KES",
  payment_min_kes: 1,
  payment_max_kes: 250000,
  deposit_min_kes: 10,
  delivery_fee_kes: 300,
  free_delivery_from_kes: null,
};

function attempt(overrides: Partial<Attempt> = {}): Attempt {
  return {
    id: "a1",
    payable_type: "booking",
    payable_id: "b1",
    attempt_number: 1,
    amount: 2500,
    phone: "254*****5678",
    status: "processing",
    customer_message: "Check your phone and enter your M-Pesa PIN to pay KES 2,500.",
    receipt_number: null,
    reason: null,
    retry_hint: null,
    can_retry: false,
    account_reference: "BK0123456789",
    version: 1,
    created_at: "2026-12-01T10:00:00Z",
    updated_at: "2026-12-01T10:00:00Z",
    paid_at: null,
    ...overrides,
  };
}

function renderDialog(start: (phone: string) => Promise<Attempt>, defaultPhone = "") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  client.setQueryData(["config"], CONFIG);
  return render(
    <QueryClientProvider client={client}>
      <PaymentDialog
        open
        onClose={() => undefined}
        purpose="Individual session"
        amount={2500}
        defaultPhone={defaultPhone}
        start={start}
      />
    </QueryClientProvider>,
  );
}

beforeEach(() => {
  vi.stubGlobal("EventSource", FakeEventSource);
  FakeEventSource.last = null;
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the payment dialog", () => {
  it("shows the amount and what it pays for, with the phone prefilled and formatted", () => {
    renderDialog(vi.fn(), "+254712345678");
    expect(screen.getByText("KES 2,500")).toBeInTheDocument();
    expect(screen.getByText(/Individual session/)).toBeInTheDocument();
    expect(screen.getByLabelText("M-Pesa phone number")).toHaveValue("+254 712 345 678");
  });

  it("refuses a wrong phone format, naming the accepted ones, and sends nothing", async () => {
    const start = vi.fn();
    renderDialog(start);
    await userEvent.type(screen.getByLabelText("M-Pesa phone number"), "0812345678");
    await userEvent.click(screen.getByRole("button", { name: "Send M-Pesa prompt" }));
    expect(screen.getByRole("alert")).toHaveTextContent(/07XX XXX XXX, 01XX XXX XXX/);
    expect(start).not.toHaveBeenCalled();
  });

  it("sends one prompt however often it is tapped", async () => {
    let resolve: (a: Attempt) => void = () => undefined;
    const start = vi.fn(() => new Promise<Attempt>((r) => (resolve = r)));
    renderDialog(start, "0712345678");
    const button = screen.getByRole("button", { name: "Send M-Pesa prompt" });
    await userEvent.click(button);
    await userEvent.click(button);
    await userEvent.keyboard("{Enter}");
    expect(start).toHaveBeenCalledTimes(1);
    expect(start).toHaveBeenCalledWith("254712345678");
    await act(async () => resolve(attempt()));
    expect(screen.getByText("Check your phone and enter your M-Pesa PIN")).toBeInTheDocument();
  });

  it("waits with a countdown, then shows the receipt the stream brings", async () => {
    renderDialog(async () => attempt(), "0712345678");
    await userEvent.click(screen.getByRole("button", { name: "Send M-Pesa prompt" }));
    expect(screen.getByText("Check your phone and enter your M-Pesa PIN")).toBeInTheDocument();
    expect(screen.getByText("1:00")).toBeInTheDocument();
    expect(screen.getByText("174379")).toBeInTheDocument();
    expect(screen.getByText("BK0123456789")).toBeInTheDocument();
    expect(FakeEventSource.last?.url).toContain("/v1/payments/a1/stream");
    FakeEventSource.last?.send(
      attempt({
        status: "paid",
        version: 2,
        receipt_number: "SLK4H7R2QX",
        paid_at: "2026-12-01T10:00:20Z",
        customer_message: "Payment received. M-Pesa receipt SLK4H7R2QX.",
      }),
    );
    expect(screen.getByText("Payment received")).toBeInTheDocument();
    expect(screen.getByText("SLK4H7R2QX")).toBeInTheDocument();
    // The receipt is said once, not again in the gateway's own sentence.
    expect(screen.queryByText(/M-Pesa receipt SLK4H7R2QX\./)).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Download receipt" })).toBeInTheDocument();
    expect(FakeEventSource.last?.closed).toBe(true);
  });

  it("ignores an older state arriving after a newer one", async () => {
    renderDialog(async () => attempt(), "0712345678");
    await userEvent.click(screen.getByRole("button", { name: "Send M-Pesa prompt" }));
    FakeEventSource.last?.send(attempt({ status: "paid", version: 3, receipt_number: "R1" }));
    FakeEventSource.last?.send(attempt({ status: "processing", version: 1 }));
    expect(screen.getByText("Payment received")).toBeInTheDocument();
  });

  it("shows the gateway's reason for a cancel and retries with the phone kept", async () => {
    const start = vi.fn(async () => attempt());
    renderDialog(start, "0712345001");
    await userEvent.click(screen.getByRole("button", { name: "Send M-Pesa prompt" }));
    FakeEventSource.last?.send(
      attempt({
        status: "cancelled",
        version: 2,
        reason: "customer_cancelled",
        customer_message: "You cancelled the M-Pesa prompt.",
        retry_hint: "Nothing was charged. You can try again now.",
        can_retry: true,
      }),
    );
    expect(screen.getByText("You cancelled the M-Pesa prompt.")).toBeInTheDocument();
    expect(screen.getByText("Nothing was charged. You can try again now.")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(screen.getByLabelText("M-Pesa phone number")).toHaveValue("0712 345 001");
    await userEvent.click(screen.getByRole("button", { name: "Send M-Pesa prompt" }));
    expect(start).toHaveBeenCalledTimes(2);
  });

  it("says a timeout is not a failure: check the M-Pesa messages first", async () => {
    renderDialog(async () => attempt(), "0712345678");
    await userEvent.click(screen.getByRole("button", { name: "Send M-Pesa prompt" }));
    FakeEventSource.last?.send(
      attempt({ status: "timeout", version: 2, reason: "prompt_expired", can_retry: true }),
    );
    expect(screen.getByText("Check your M-Pesa messages before you try again")).toBeInTheDocument();
    expect(screen.queryByText(/failed/i)).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });

  it("shows what the API refused", async () => {
    const { ApiError } = await import("../api/client");
    renderDialog(async () => {
      throw new ApiError(409, { error: "PaymentBlocked", detail: "A prompt is already on this phone." });
    }, "0712345678");
    await userEvent.click(screen.getByRole("button", { name: "Send M-Pesa prompt" }));
    expect(screen.getByRole("alert")).toHaveTextContent("A prompt is already on this phone.");
  });
});

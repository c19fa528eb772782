import { act, render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  bookingsRefresh,
  NO_STREAM_REFRESH_MS,
  RECEIPT_REFRESH_MS,
  STREAM_LIVE_REFRESH_MS,
  useLiveRefreshInterval,
  useNotificationStream,
} from "./live";

class FakeEventSource {
  static last: FakeEventSource | null = null;
  listeners = new Map<string, (() => void)[]>();
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, listener: () => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
  }
  emit(type: "open" | "error" | "notification") {
    act(() => {
      if (type === "open") this.onopen?.();
      else if (type === "error") this.onerror?.();
      else this.listeners.get(type)?.forEach((l) => l());
    });
  }
}

function lastSource(): FakeEventSource {
  if (FakeEventSource.last === null) throw new Error("no EventSource was opened");
  return FakeEventSource.last;
}

function Probe({ userId }: { userId: string | undefined }) {
  useNotificationStream(userId);
  return <output>{useLiveRefreshInterval()}</output>;
}

function renderProbe(userId: string | undefined) {
  const client = new QueryClient();
  const invalidated = vi.spyOn(client, "invalidateQueries");
  const view = render(
    <QueryClientProvider client={client}>
      <Probe userId={userId} />
    </QueryClientProvider>,
  );
  return { invalidated, view };
}

beforeEach(() => {
  FakeEventSource.last = null;
  vi.stubGlobal("EventSource", FakeEventSource);
});
afterEach(() => vi.unstubAllGlobals());

describe("live updates from the notification stream", () => {
  it("opens no stream for a signed-out visitor, and polls", () => {
    renderProbe(undefined);
    expect(FakeEventSource.last).toBeNull();
    expect(screen.getByRole("status")).toHaveTextContent(String(NO_STREAM_REFRESH_MS));
  });

  it("polls rarely while the stream is live and refreshes the lists on each notification", () => {
    const { invalidated } = renderProbe("u1");
    const source = lastSource();
    expect(source.url).toContain("/v1/notifications/stream");
    expect(screen.getByRole("status")).toHaveTextContent(String(NO_STREAM_REFRESH_MS));

    source.emit("open");
    expect(screen.getByRole("status")).toHaveTextContent(String(STREAM_LIVE_REFRESH_MS));
    invalidated.mockClear();
    source.emit("notification");
    const keys = invalidated.mock.calls.map(([filters]) => filters?.queryKey?.[0]);
    expect(keys).toEqual(expect.arrayContaining(["notifications", "bookings", "payments"]));
  });

  it("polls often again while the stream is down, and closes it on sign-out", () => {
    const { view } = renderProbe("u1");
    const source = lastSource();
    source.emit("open");
    source.emit("error");
    expect(screen.getByRole("status")).toHaveTextContent(String(NO_STREAM_REFRESH_MS));
    view.unmount();
    expect(source.closed).toBe(true);
  });
});

describe("a bookings list waiting for a receipt", () => {
  const list = (items: { payment: { status: string; receipt_number: string | null } }[]) => ({
    state: { data: { items } },
  });

  it("refreshes quickly until every paid booking has its receipt", () => {
    const interval = bookingsRefresh(STREAM_LIVE_REFRESH_MS);
    expect(interval(list([{ payment: { status: "paid", receipt_number: null } }]))).toBe(
      RECEIPT_REFRESH_MS,
    );
    expect(interval(list([{ payment: { status: "paid", receipt_number: "UL1XRXQK99" } }]))).toBe(
      STREAM_LIVE_REFRESH_MS,
    );
    expect(interval(list([{ payment: { status: "unpaid", receipt_number: null } }]))).toBe(
      STREAM_LIVE_REFRESH_MS,
    );
    expect(interval({ state: { data: undefined } })).toBe(STREAM_LIVE_REFRESH_MS);
  });
});

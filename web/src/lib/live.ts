import { useEffect, useSyncExternalStore } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { tokenStore } from "../api/client";

/** How often lists that other people change refresh: rarely while the notification stream is
 * live (each notification refreshes them at once), often while it is not. */
export const STREAM_LIVE_REFRESH_MS = 30_000;
export const NO_STREAM_REFRESH_MS = 5_000;

/** What a new notification can change on screen: a booking requested, approved or paid, an
 * order or a deposit paid, and the notifications themselves. */
const ANNOUNCED = [["notifications"], ["bookings"], ["orders"], ["payments"], ["wallet"], ["deposits"]];

let live = false;
const listeners = new Set<() => void>();

function setLive(value: boolean): void {
  if (value === live) return;
  live = value;
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Keep the signed-in user's screens current from session-api's notification stream. The
 * browser reconnects by itself when the server ends the stream; on every (re)connection the
 * lists refresh once, for whatever happened while it was away. */
export function useNotificationStream(userId: string | undefined): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (userId === undefined || typeof EventSource === "undefined") return;
    const refresh = () => {
      for (const queryKey of ANNOUNCED) void queryClient.invalidateQueries({ queryKey });
    };
    const token = tokenStore.get() ?? "";
    const source = new EventSource(`/v1/notifications/stream?access_token=${encodeURIComponent(token)}`);
    source.onopen = () => {
      setLive(true);
      refresh();
    };
    source.addEventListener("notification", refresh);
    source.onerror = () => setLive(false);
    return () => {
      source.close();
      setLive(false);
    };
  }, [userId, queryClient]);
}

/** The refresh interval for a list other people change (see the constants above). */
export function useLiveRefreshInterval(): number {
  return useSyncExternalStore(subscribe, () => live) ? STREAM_LIVE_REFRESH_MS : NO_STREAM_REFRESH_MS;
}

/** While a paid booking still waits for its M-Pesa receipt (a payment proven by a status query
 * is paid before the callback brings the receipt, and no notification announces the receipt),
 * its list refreshes this often. */
export const RECEIPT_REFRESH_MS = 3_000;

type WithPayment = { payment: { status: string; receipt_number?: string | null } };

/** The refresh interval for a list of bookings: quick while a receipt is on its way. */
export function bookingsRefresh(live: number) {
  return (query: { state: { data?: { items: WithPayment[] } | undefined } }): number => {
    const waiting = query.state.data?.items.some(
      (b) => b.payment.status === "paid" && !b.payment.receipt_number,
    );
    return waiting ? Math.min(live, RECEIPT_REFRESH_MS) : live;
  };
}

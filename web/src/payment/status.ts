import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, tokenStore, unwrap, type Attempt } from "../api/client";

export const POLL_INTERVAL_MS = 3000;

/** Nothing more will change: a final status, and for a paid attempt its receipt (a payment the
 * gateway proved by a status query is paid before the callback with the receipt arrives). */
export function isSettled(attempt: Attempt | undefined): boolean {
  if (attempt === undefined || attempt.status === "processing") return false;
  return attempt.status !== "paid" || attempt.receipt_number !== null;
}

/** The newer of two states of one attempt (`version` grows with every change). */
export function newer(current: Attempt | undefined, next: Attempt): Attempt {
  return current === undefined || next.version >= current.version ? next : current;
}

/** An attempt's live state: session-api's Server-Sent Events stream, and polling every 3 s once
 * the stream fails or ends before the attempt settled (the stream closes at a final status, which
 * can come before the receipt), or when the browser has no EventSource. */
export function useAttemptStatus(initial: Attempt): { attempt: Attempt; polling: boolean } {
  const [streamed, setStreamed] = useState<Attempt>(initial);
  const [polling, setPolling] = useState(typeof EventSource === "undefined");
  const id = initial.id;
  const polled = useQuery({
    queryKey: ["attempt", id],
    queryFn: () =>
      unwrap(api.GET("/v1/payments/{attempt_id}", { params: { path: { attempt_id: id } } })),
    enabled: polling && !isSettled(streamed),
    refetchInterval: (query) => (isSettled(query.state.data) ? false : POLL_INTERVAL_MS),
  });
  const attempt = polled.data ? newer(streamed, polled.data) : streamed;
  const settled = isSettled(attempt);

  useEffect(() => {
    if (polling || settled) return;
    const token = tokenStore.get() ?? "";
    const source = new EventSource(
      `/v1/payments/${encodeURIComponent(id)}/stream?access_token=${encodeURIComponent(token)}`,
    );
    source.addEventListener("status", (event) => {
      const next = JSON.parse((event as MessageEvent<string>).data) as Attempt;
      setStreamed((current) => newer(current, next));
      if (isSettled(next)) source.close();
    });
    source.onerror = () => {
      source.close();
      setPolling(true);
    };
    return () => source.close();
  }, [id, polling, settled]);

  return { attempt, polling };
}

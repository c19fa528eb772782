import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, describeError, unwrap, type Booking } from "../api/client";
import { formatKes, formatNairobi, humanise } from "../lib/format";
import { bookingsRefresh, useLiveRefreshInterval } from "../lib/live";
import { Button } from "../ui/Button";
import { Field } from "../ui/Field";
import { ErrorMessage, Spinner } from "../ui/Status";
import { BookingStatusBadge, PaymentBadge } from "./bookingStatus";


export function Sessions() {
  const queryClient = useQueryClient();
  // A client's request or payment shows without a reload.
  const refreshInterval = useLiveRefreshInterval();
  const bookings = useQuery({
    queryKey: ["bookings", "therapist"],
    queryFn: () => unwrap(api.GET("/v1/bookings", { params: { query: { page_size: 100 } } })),
    refetchInterval: bookingsRefresh(refreshInterval),
  });
  const [error, setError] = useState<unknown>(null);
  const [declining, setDeclining] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const decide = useMutation({
    mutationFn: async ({ booking, approve }: { booking: Booking; approve: boolean }) => {
      const path = { params: { path: { booking_id: booking.id } } };
      return approve
        ? unwrap(api.POST("/v1/bookings/{booking_id}/approve", path))
        : unwrap(
            api.POST("/v1/bookings/{booking_id}/decline", {
              ...path,
              body: { reason: reason.trim() || "The therapist is not available then." },
            }),
          );
    },
    onMutate: () => setError(null),
    onError: setError,
    onSuccess: () => {
      setDeclining(null);
      setReason("");
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["bookings"] }),
  });

  const items = bookings.data?.items ?? [];
  const requests = items.filter((b) => b.status === "pending_approval");
  // A session stays listed until it has ended (as of the list's last refresh).
  const now = bookings.dataUpdatedAt;
  const upcoming = items.filter(
    (b) =>
      (b.status === "approved" || b.status === "confirmed") &&
      new Date(b.scheduled_at).getTime() + b.duration_minutes * 60_000 > now,
  );

  return (
    <section>
      <h1>Your sessions</h1>
      {bookings.isPending && <Spinner label="Loading…" />}
      {bookings.isError && <ErrorMessage>{describeError(bookings.error)}</ErrorMessage>}
      {error !== null && <ErrorMessage>{describeError(error)}</ErrorMessage>}
      <h2>Requests</h2>
      {requests.length === 0 && <p className="muted">No requests waiting.</p>}
      <ul className="cards">
        {requests.map((b) => (
          <li key={b.id} className="card" data-testid="request">
            <h3>
              {b.client.full_name} · {humanise(b.session_type)}
            </h3>
            <p>
              <time dateTime={b.scheduled_at}>{formatNairobi(b.scheduled_at)}</time> · {formatKes(b.price)}
            </p>
            {b.notes && <p className="muted">“{b.notes}”</p>}
            {declining === b.id ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  decide.mutate({ booking: b, approve: false });
                }}
              >
                <Field
                  label="Why are you declining? (the client sees this)"
                  name="reason"
                  value={reason}
                  maxLength={500}
                  onChange={(e) => setReason(e.target.value)}
                />
                <div className="row">
                  <Button type="submit" variant="danger" busy={decide.isPending}>
                    Decline request
                  </Button>
                  <Button variant="secondary" onClick={() => setDeclining(null)}>
                    Keep it
                  </Button>
                </div>
              </form>
            ) : (
              <div className="row">
                <Button
                  busy={decide.isPending}
                  onClick={() => decide.mutate({ booking: b, approve: true })}
                  aria-label={`Approve ${b.client.full_name}'s request`}
                >
                  Approve
                </Button>
                <Button
                  variant="secondary"
                  onClick={() => setDeclining(b.id)}
                  aria-label={`Decline ${b.client.full_name}'s request`}
                >
                  Decline
                </Button>
              </div>
            )}
          </li>
        ))}
      </ul>
      <h2>Upcoming</h2>
      {upcoming.length === 0 && <p className="muted">No upcoming sessions.</p>}
      <ul className="cards" aria-live="polite">
        {upcoming.map((b) => (
          <li
            key={b.id}
            className={`card session ${b.payment.status === "paid" ? "session-paid" : "session-unpaid"}`}
            data-testid="session"
          >
            <h3>
              {b.client.full_name} · {humanise(b.session_type)}
            </h3>
            <p>
              <time dateTime={b.scheduled_at}>{formatNairobi(b.scheduled_at)}</time> · {formatKes(b.price)}
            </p>
            <p className="row">
              <BookingStatusBadge booking={b} /> <PaymentBadge booking={b} />
            </p>
            {b.payment.receipt_number && (
              <p>
                M-Pesa receipt <strong className="receipt">{b.payment.receipt_number}</strong>
              </p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, describeError, unwrap } from "../api/client";
import { formatKes, formatNairobi, humanise } from "../lib/format";
import { bookingsRefresh, useLiveRefreshInterval } from "../lib/live";
import { PayButton } from "../payment/PayButton";
import { ErrorMessage, Spinner } from "../ui/Status";
import { BookingStatusBadge, PaymentBadge } from "./bookingStatus";

export function MyBookings() {
  // `/bookings/{id}/pay`, the link in the approval email, opens that booking's payment.
  const { bookingId } = useParams();
  const queryClient = useQueryClient();
  const refreshInterval = useLiveRefreshInterval();
  const bookings = useQuery({
    queryKey: ["bookings", "mine"],
    queryFn: () => unwrap(api.GET("/v1/bookings", { params: { query: { page_size: 50 } } })),
    // Approvals arrive from the therapist's side.
    refetchInterval: bookingsRefresh(refreshInterval),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["bookings"] });

  return (
    <section>
      <h1>My bookings</h1>
      {bookings.isPending && <Spinner label="Loading your bookings…" />}
      {bookings.isError && <ErrorMessage>{describeError(bookings.error)}</ErrorMessage>}
      {bookings.data?.items.length === 0 && (
        <p>
          No bookings yet. <Link to="/therapists">Find a therapist</Link>
        </p>
      )}
      <ul className="cards">
        {bookings.data?.items.map((b) => (
          <li key={b.id} className="card booking" data-testid="booking">
            <h2>
              {humanise(b.session_type)} session with {b.therapist.full_name}
            </h2>
            <p>
              <time dateTime={b.scheduled_at}>{formatNairobi(b.scheduled_at)}</time> ·{" "}
              {formatKes(b.price)}
            </p>
            <p className="row">
              <BookingStatusBadge booking={b} /> <PaymentBadge booking={b} />
            </p>
            {b.payment.receipt_number && (
              <p>
                M-Pesa receipt <strong className="receipt">{b.payment.receipt_number}</strong>
              </p>
            )}
            {b.decline_reason && <p className="muted">Reason: {b.decline_reason}</p>}
            {(b.status === "approved" || b.status === "confirmed") && (
              <PayButton
                available={b.status === "approved"}
                autoOpen={b.id === bookingId}
                amount={b.price}
                purpose={`${humanise(b.session_type)} session with ${b.therapist.full_name}`}
                payment={b.payment}
                onDone={refresh}
                start={(phone) =>
                  unwrap(
                    api.POST("/v1/bookings/{booking_id}/pay", {
                      params: { path: { booking_id: b.id } },
                      body: { phone },
                    }),
                  )
                }
              />
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, describeError, unwrap, type Attempt, type Booking, type User } from "../api/client";
import { formatKes, formatNairobi, humanise } from "../lib/format";
import { PaymentDialog } from "../payment/PaymentDialog";
import { Button } from "../ui/Button";
import { ErrorMessage, Spinner } from "../ui/Status";
import { BookingStatusBadge, PaymentBadge } from "./bookingStatus";

export function MyBookings({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const bookings = useQuery({
    queryKey: ["bookings", "mine"],
    queryFn: () => unwrap(api.GET("/v1/bookings", { params: { query: { page_size: 50 } } })),
    // Approvals arrive from the therapist's side.
    refetchInterval: 5000,
  });
  const [paying, setPaying] = useState<{ booking: Booking; pending?: Attempt } | null>(null);
  const [opening, setOpening] = useState(false);
  const [openError, setOpenError] = useState<unknown>(null);

  async function pay(booking: Booking) {
    const attemptId = booking.payment.last_attempt_id;
    if (booking.payment.status !== "processing" || !attemptId) {
      setPaying({ booking });
      return;
    }
    // A prompt is already on the phone: show it, send nothing new.
    setOpening(true);
    setOpenError(null);
    try {
      const pending = await unwrap(
        api.GET("/v1/payments/{attempt_id}", { params: { path: { attempt_id: attemptId } } }),
      );
      setPaying({ booking, pending });
    } catch (error) {
      setOpenError(error);
    } finally {
      setOpening(false);
    }
  }

  return (
    <section>
      <h1>My bookings</h1>
      {bookings.isPending && <Spinner label="Loading your bookings…" />}
      {bookings.isError && <ErrorMessage>{describeError(bookings.error)}</ErrorMessage>}
      {openError !== null && <ErrorMessage>{describeError(openError)}</ErrorMessage>}
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
            {b.status === "approved" && (
              <Button onClick={() => void pay(b)} busy={opening}>
                {b.payment.status === "processing" ? "See payment status" : "Pay with M-Pesa"}
              </Button>
            )}
          </li>
        ))}
      </ul>
      {paying && (
        <PaymentDialog
          open
          onClose={() => {
            setPaying(null);
            void queryClient.invalidateQueries({ queryKey: ["bookings"] });
          }}
          purpose={`${humanise(paying.booking.session_type)} session with ${paying.booking.therapist.full_name}`}
          amount={paying.booking.price}
          defaultPhone={user.phone ? `+${user.phone}` : ""}
          pending={paying.pending}
          start={(phone) =>
            unwrap(
              api.POST("/v1/bookings/{booking_id}/pay", {
                params: { path: { booking_id: paying.booking.id } },
                body: { phone },
              }),
            )
          }
          onSettled={() => void queryClient.invalidateQueries({ queryKey: ["bookings"] })}
        />
      )}
    </section>
  );
}

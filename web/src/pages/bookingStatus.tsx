import type { Booking } from "../api/client";
import { humanise } from "../lib/format";
import { Badge, type Tone } from "../ui/Status";

const STATUS_TONES: Record<Booking["status"], Tone> = {
  pending_approval: "info",
  approved: "warn",
  confirmed: "ok",
  declined: "bad",
  cancelled: "muted",
};

const STATUS_LABELS: Record<Booking["status"], string> = {
  pending_approval: "Waiting for approval",
  approved: "Approved",
  confirmed: "Confirmed",
  declined: "Declined",
  cancelled: "Cancelled",
};

export function BookingStatusBadge({ booking }: { booking: Booking }) {
  return <Badge tone={STATUS_TONES[booking.status]}>{STATUS_LABELS[booking.status]}</Badge>;
}

/** Paid and unpaid differ in words and icon, not colour alone. */
export function PaymentBadge({ booking }: { booking: Booking }) {
  const status = booking.payment.status;
  if (status === "paid") return <Badge tone="ok">Paid</Badge>;
  if (status === "processing") return <Badge tone="info">Payment in progress</Badge>;
  if (status === "unpaid") return <Badge tone="muted">Unpaid</Badge>;
  return <Badge tone="warn">Unpaid: last try {humanise(status).toLowerCase()}</Badge>;
}

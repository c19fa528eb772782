import { useState } from "react";
import { api, describeError, unwrap, type Attempt, type Schemas } from "../api/client";
import { useAuth } from "../auth/auth";
import { Button } from "../ui/Button";
import { ErrorMessage } from "../ui/Status";
import { PaymentDialog } from "./PaymentDialog";

type Props = {
  amount: number;
  purpose: string;
  payment: { status: Schemas["PayableStatus"]; last_attempt_id: string | null };
  start: (phone: string) => Promise<Attempt>;
  onDone: () => void;
  /** The phone to start with, when not the profile's (an order's customer phone). */
  phone?: string | undefined;
  /** Whether it can be paid now. The dialog stays open after the payable moves on (paid), so the
   * payer still sees the receipt; only the button goes. */
  available: boolean;
  /** Open the dialog at once (the "pay" link in the approval email). */
  autoOpen?: boolean;
};

/** "Pay with M-Pesa" and its dialog. While a prompt is still open on the phone it shows that
 * attempt instead of sending another. */
export function PayButton(props: Props) {
  const { amount, purpose, payment, start, onDone, phone, available, autoOpen = false } = props;
  const { user } = useAuth();
  const waitingNow = payment.status === "processing";
  const [open, setOpen] = useState(autoOpen && available && !waitingNow);
  const [pending, setPending] = useState<Attempt | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const waiting = payment.status === "processing" && payment.last_attempt_id !== null;

  async function openDialog() {
    setFailure(null);
    if (!waiting || payment.last_attempt_id === null) {
      setPending(undefined);
      setOpen(true);
      return;
    }
    setLoading(true);
    try {
      const attemptId = payment.last_attempt_id;
      setPending(
        await unwrap(api.GET("/v1/payments/{attempt_id}", { params: { path: { attempt_id: attemptId } } })),
      );
      setOpen(true);
    } catch (error) {
      setFailure(error);
    } finally {
      setLoading(false);
    }
  }

  return (
    <>
      {failure !== null && <ErrorMessage>{describeError(failure)}</ErrorMessage>}
      {available && (
        <Button onClick={() => void openDialog()} busy={loading}>
          {waiting ? "See payment status" : "Pay with M-Pesa"}
        </Button>
      )}
      {open && (
        <PaymentDialog
          open
          onClose={() => {
            setOpen(false);
            onDone();
          }}
          purpose={purpose}
          amount={amount}
          defaultPhone={phone ?? (user?.phone ? `+${user.phone}` : "")}
          pending={pending}
          start={start}
          onSettled={onDone}
        />
      )}
    </>
  );
}

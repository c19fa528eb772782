import { useEffect, useRef, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { describeError, ApiError, type Attempt } from "../api/client";
import { useAppConfig } from "../lib/config";
import { formatCountdown, formatKes } from "../lib/format";
import { formatPhoneInput, normalisePhone, phoneError } from "../lib/phone";
import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { Field } from "../ui/Field";
import { Badge, ErrorMessage } from "../ui/Status";
import { downloadReceipt } from "./receipt";
import { useAttemptStatus } from "./status";

export type PaymentDialogProps = {
  open: boolean;
  onClose: () => void;
  /** What the money pays for, e.g. "Individual session with Dr. Wanjiru". */
  purpose: string;
  amount: number;
  defaultPhone: string;
  /** Ask for the M-Pesa prompt; resolves with the attempt. */
  start: (phone: string) => Promise<Attempt>;
  /** An attempt already waiting on the phone (reopening the dialog shows it, sends nothing). */
  pending?: Attempt | undefined;
  onSettled?: (attempt: Attempt) => void;
};

export function PaymentDialog(props: PaymentDialogProps) {
  const { open, onClose, purpose, amount } = props;
  return (
    <Dialog open={open} title="Pay with M-Pesa" onClose={onClose}>
      <p className="pay-summary">
        <strong>{formatKes(amount)}</strong> <span>· {purpose}</span>
      </p>
      <PaymentFlow {...props} />
    </Dialog>
  );
}

function PaymentFlow({ defaultPhone, start, pending, onSettled, onClose }: PaymentDialogProps) {
  const [attempt, setAttempt] = useState<Attempt | undefined>(pending);
  const [phone, setPhone] = useState(() => formatPhoneInput(defaultPhone));
  const [touched, setTouched] = useState(false);
  const [sending, setSending] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  // A second tap (or Enter) while the first request is on its way sends nothing.
  const inFlight = useRef(false);

  const localError = touched ? phoneError(phone) : null;
  const serverPhoneError = failure instanceof ApiError ? failure.fieldMessage("phone") : undefined;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    const normal = normalisePhone(phone);
    if (normal === null || inFlight.current) return;
    inFlight.current = true;
    setSending(true);
    setFailure(null);
    try {
      setAttempt(await start(normal));
    } catch (error) {
      setFailure(error);
    } finally {
      inFlight.current = false;
      setSending(false);
    }
  }

  if (attempt) {
    return (
      <AttemptView
        key={attempt.id}
        initial={attempt}
        onRetry={() => setAttempt(undefined)}
        onSettled={onSettled}
        onClose={onClose}
      />
    );
  }
  return (
    <form onSubmit={submit} noValidate>
      <Field
        label="M-Pesa phone number"
        name="phone"
        type="tel"
        inputMode="tel"
        autoComplete="tel"
        value={phone}
        onChange={(e) => setPhone(formatPhoneInput(e.target.value))}
        onBlur={() => setTouched(true)}
        hint="We'll send the M-Pesa prompt to this phone, e.g. 0712 345 678."
        error={localError ?? serverPhoneError}
      />
      {failure !== null && !serverPhoneError && <ErrorMessage>{describeError(failure)}</ErrorMessage>}
      <Button type="submit" busy={sending} className="wide">
        {sending ? "Sending the prompt…" : "Send M-Pesa prompt"}
      </Button>
    </form>
  );
}

type AttemptViewProps = {
  initial: Attempt;
  onRetry: () => void;
  onSettled?: ((attempt: Attempt) => void) | undefined;
  onClose: () => void;
};

function AttemptView({ initial, onRetry, onSettled, onClose }: AttemptViewProps) {
  const { attempt } = useAttemptStatus(initial);
  const queryClient = useQueryClient();
  const settledRef = useRef(false);
  useEffect(() => {
    if (attempt.status !== "processing" && !settledRef.current) {
      settledRef.current = true;
      // A settled payment comes with notifications and a new line in the history.
      void queryClient.invalidateQueries({ queryKey: ["notifications"] });
      void queryClient.invalidateQueries({ queryKey: ["payments"] });
      onSettled?.(attempt);
    }
  }, [attempt, onSettled, queryClient]);

  switch (attempt.status) {
    case "processing":
      return <Waiting attempt={attempt} />;
    case "paid":
      return <Paid attempt={attempt} onClose={onClose} />;
    case "timeout":
      return (
        <div className="pay-state" role="status">
          <Badge tone="warn">No answer from M-Pesa yet</Badge>
          <h3>Check your M-Pesa messages before you try again</h3>
          <p>
            We did not hear back from M-Pesa in time. If you entered your PIN and received an M-Pesa
            message, you have paid: it will show here once M-Pesa confirms it.
          </p>
          {attempt.retry_hint && <p className="muted">{attempt.retry_hint}</p>}
          <Button onClick={onRetry}>Try again</Button>
          <Paybill attempt={attempt} />
        </div>
      );
    default:
      return (
        <div className="pay-state" role="alert">
          <Badge tone="bad">Not paid</Badge>
          <h3>{attempt.customer_message}</h3>
          {attempt.retry_hint && <p className="muted">{attempt.retry_hint}</p>}
          <Button onClick={onRetry}>Try again</Button>
          <Paybill attempt={attempt} />
        </div>
      );
  }
}

function Waiting({ attempt }: { attempt: Attempt }) {
  const config = useAppConfig();
  const window = config?.prompt_window_s ?? 60;
  const [startedAt] = useState(() => Date.now());
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = window - (now - startedAt) / 1000;
  return (
    <div className="pay-state" role="status" aria-live="polite">
      <span className="phone-pulse" aria-hidden="true">📱</span>
      <h3>Check your phone and enter your M-Pesa PIN</h3>
      <p>{attempt.customer_message}</p>
      {left > 0 ? (
        <p className="countdown">
          The prompt on <strong>{attempt.phone}</strong> closes in{" "}
          <time aria-label={`${Math.ceil(left)} seconds`}>{formatCountdown(left)}</time>
        </p>
      ) : (
        <p className="countdown">
          The prompt has closed. We are still waiting for M-Pesa to confirm; do not pay twice.
        </p>
      )}
      <Paybill attempt={attempt} />
    </div>
  );
}

function Paid({ attempt, onClose }: { attempt: Attempt; onClose: () => void }) {
  return (
    <div className="pay-state" role="status">
      <Badge tone="ok">Paid</Badge>
      {/* The heading and the receipt line say what the gateway's message says, once. */}
      <h3>Payment received</h3>
      {attempt.receipt_number ? (
        <p>
          M-Pesa receipt <strong className="receipt">{attempt.receipt_number}</strong>
        </p>
      ) : (
        <p className="muted">The M-Pesa receipt number will appear here shortly.</p>
      )}
      <div className="row">
        {attempt.receipt_number && (
          <Button variant="secondary" onClick={() => void downloadReceipt(attempt)}>
            Download receipt
          </Button>
        )}
        <Button onClick={onClose}>Done</Button>
      </div>
    </div>
  );
}

function Paybill({ attempt }: { attempt: Attempt }) {
  const config = useAppConfig();
  if (!config) return null;
  return (
    <details className="paybill">
      <summary>No prompt? Pay with the M-Pesa menu instead</summary>
      <p>
        M-Pesa → Lipa na M-Pesa → Pay Bill. Business number{" "}
        <strong>{config.paybill_number}</strong>, account number{" "}
        <strong>{attempt.account_reference}</strong>, amount{" "}
        <strong>{formatKes(attempt.amount)}</strong>.
      </p>
    </details>
  );
}

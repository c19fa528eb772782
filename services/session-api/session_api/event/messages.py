"""What staff and admins read about the gateway's work that needs a person: a reconciliation run
that left exceptions open (the counts per verdict and a link to the run), and a refund M-Pesa
refused. Times are said in Kenya's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from session_api.integrations.gateway import GatewayPayment, ReconciliationRunSummary
from session_api.notification.content import Message

NAIROBI = ZoneInfo("Africa/Nairobi")
KIND = "reconciliation.exceptions"
REFUND_FAILED_KIND = "payment.refund_failed"
VERDICTS = {
    "matched": "Matched",
    "settled_late": "Settled late (completed by reconciliation)",
    "matched_by_reference": "Matched by account reference",
    "missing_in_mpesa": "Missing in M-Pesa",
    "unmatched_mpesa": "M-Pesa money matching no payment",
    "amount_mismatch": "Amount mismatch",
    "duplicate_receipt": "Duplicate receipt",
    "paid_twice": "Paid twice",
    "pending_verification": "Pending verification (no answer from M-Pesa)",
}


def _moment(value: datetime) -> str:
    return value.astimezone(NAIROBI).strftime("%d %b %Y %H:%M EAT")


def console_path(run_id: str) -> str:
    return f"/staff/reconciliation/{run_id}"


def open_exceptions(run: ReconciliationRunSummary) -> Message:
    count = run.open_exceptions
    plural = "exception" if count == 1 else "exceptions"
    window = f"{_moment(run.from_)} to {_moment(run.to)}"
    return Message(
        kind=KIND,
        title=f"Reconciliation: {count:,} open {plural}",
        body=f"Reconciling M-Pesa's records for {window} left {count:,} {plural} that need a "
        "person.",
        data={"run_id": run.id, "open_exceptions": count},
        details=tuple(
            (VERDICTS.get(verdict, verdict.replace("_", " ")), f"{number:,}")
            for verdict, number in run.summary.items()
            if number
        ),
        paragraphs=(
            "Resolve each in the staff console: attach the money to a payment, accept it, mark "
            "a refund needed, or ignore it, with a note.",
        ),
        action=("Open the run", console_path(run.id)),
    )


def refund_failed(payment: GatewayPayment) -> Message:
    receipt = payment.receipt_number or "(no receipt)"
    why = payment.result_desc or (payment.reason or "no reason given").replace("_", " ")
    return Message(
        kind=REFUND_FAILED_KIND,
        title=f"Refund failed: KES {payment.amount:,}, receipt {receipt}",
        body=f"M-Pesa did not reverse payment {receipt}: {why}. The payment stays paid and the "
        "customer has not been refunded.",
        data={"gateway_payment_id": payment.id, "reason": payment.reason},
        details=(
            ("Amount", f"KES {payment.amount:,}"),
            ("M-Pesa receipt", receipt),
            ("Why", why),
        ),
        paragraphs=(
            "Check the Reversal setup (initiator and credential) if M-Pesa refused the request, "
            "or refund the customer another way and note it on the payment.",
        ),
        action=("Find the payment", f"/staff/payments?q={payment.receipt_number or payment.id}"),
    )

"""What staff and admins read when a reconciliation run leaves exceptions open: the counts per
verdict and a link to the run in the staff console. Times are said in Kenya's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from session_api.integrations.gateway import ReconciliationRunSummary
from session_api.notification.content import Message

NAIROBI = ZoneInfo("Africa/Nairobi")
KIND = "reconciliation.exceptions"
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

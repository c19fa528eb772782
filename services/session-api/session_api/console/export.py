"""The CSV export's shape: one header, every field of a row, dates in Africa/Nairobi with their
offset, and text that a spreadsheet will not run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from session_api.console.schemas import AdminPaymentRow

NAIROBI = ZoneInfo("Africa/Nairobi")

HEADER = (
    "created_at",
    "attempt_id",
    "amount_kes",
    "status",
    "reason",
    "status_detail",
    "result_code",
    "receipt_number",
    "phone",
    "environment",
    "held_for_review",
    "reconciliation_verdict",
    "open_exception",
    "client_name",
    "client_email",
    "paid_for",
    "payable_type",
    "payable_id",
    "reference",
    "therapist_name",
    "session_at",
    "order_number",
    "payable_status",
    "attempt_number",
    "checkout_request_id",
    "gateway_payment_id",
)

# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def nairobi(moment: datetime | None) -> str:
    """ISO 8601 in Africa/Nairobi with its offset, to the second: `2026-12-01T18:00:00+03:00`."""
    if moment is None:
        return ""
    return moment.astimezone(NAIROBI).replace(microsecond=0).isoformat()


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def cells(row: AdminPaymentRow) -> tuple[str | int, ...]:
    paid_for = row.paid_for
    return (
        nairobi(row.created_at),
        str(row.id),
        row.amount,
        row.status.value,
        row.reason or "",
        _text(row.status_detail),
        row.result_code or "",
        row.receipt_number or "",
        row.phone,
        row.environment.value if row.environment else "",
        row.held_for_review or "",
        row.reconciliation_verdict or "",
        "yes" if row.open_exception else "no",
        _text(row.client.name),
        _text(row.client.email),
        _text(paid_for.summary),
        paid_for.type.value,
        str(paid_for.id),
        paid_for.reference,
        _text(paid_for.therapist_name),
        nairobi(paid_for.session_at),
        paid_for.order_number or "",
        paid_for.status or "",
        row.attempt_number,
        row.checkout_request_id or "",
        row.gateway_payment_id,
    )


def lines(rows: Iterable[tuple[str | int, ...]]) -> str:
    """Rows as CSV text (RFC 4180: quoted when needed, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()

"""The M-Pesa org-portal statement export, as CSV.

Safaricom publishes no column spec; the 13-column header below is the one repeated across
independent parsers of real exports. Rows are latest first, times ``dd-mm-yyyy HH:MM:SS`` in
Nairobi, amounts with thousands separators, phone numbers masked as the portal now does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from daraja_simulator.clock import NAIROBI
from daraja_simulator.config import Shortcode
from daraja_simulator.ledger import BUY_GOODS, LedgerEntry

COLUMNS = (
    "Receipt No.",
    "Completion Time",
    "Initiation Time",
    "Details",
    "Transaction Status",
    "Paid In",
    "Withdrawn",
    "Balance",
    "Balance Confirmed",
    "Reason Type",
    "Other Party Info",
    "Linked Transaction ID",
    "A/C No.",
)


def portal_time(moment: datetime) -> str:
    return moment.astimezone(NAIROBI).strftime("%d-%m-%Y %H:%M:%S")


def money(amount: int) -> str:
    return f"{amount:,}.00"


def statement_phone_mask(phone: str) -> str:
    """The phone as M-Pesa's org-portal statement prints it (``2547*****149``: the first four
    and last three digits). Safaricom's format, reproduced; the platform's own masking is
    ``shared.phone.mask_phone``."""
    return f"{phone[:4]}{'*' * (len(phone) - 7)}{phone[-3:]}"


def _row(entry: LedgerEntry, *, mask: bool) -> list[str]:
    phone = statement_phone_mask(entry.phone) if mask else entry.phone
    party = f"{phone} - {entry.customer_name}"
    if entry.transaction_type == BUY_GOODS:
        details = f"Merchant Payment Online from {party}"
        reason = "Buy Goods Online"
    else:
        details = f"Pay Bill Online from {party} Acc. {entry.account_reference}"
        reason = "Pay Bill Online"
    return [
        entry.receipt,
        portal_time(entry.completed_at),
        portal_time(entry.initiated_at),
        details,
        "Completed",
        money(entry.amount),
        "",
        money(entry.balance_after),
        "true",
        reason,
        party,
        "",
        entry.account_reference,
    ]


def render(
    entries: Iterable[LedgerEntry],
    *,
    merchant: Shortcode,
    start: datetime,
    end: datetime,
    mask_phones: bool,
    preamble: bool,
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if preamble:
        writer.writerow(["Organization Name", merchant.organization_name])
        writer.writerow(["Short Code", merchant.shortcode])
        writer.writerow(["Account", "Utility Account"])
        writer.writerow(["Time Period", f"From {portal_time(start)} To {portal_time(end)}"])
        writer.writerow([])
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(_row(entry, mask=mask_phones))
    return out.getvalue()

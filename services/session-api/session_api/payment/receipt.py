"""The PDF receipt of a paid attempt: what `GET /v1/payments/{id}/receipt.pdf` returns and the
confirmation email carries.

fpdf2's built-in Helvetica covers Latin-1 only; text outside it (a name in another script) is
folded to its closest Latin-1 form rather than shipping a font file."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.models import AttemptStatus, PayableType, PaymentAttempt
from session_api.payment.exceptions import ReceiptNotAvailable
from session_api.payment.repository import PaymentAttemptRepository
from shared.settings import Environment

NAIROBI = ZoneInfo("Africa/Nairobi")
MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class ReceiptFacts:
    business_name: str
    paybill: str
    receipt_number: str
    amount: int
    paid_at: datetime
    paid_for: str
    phone_masked: str
    test_mode: bool
    attempt_id: uuid.UUID

    @property
    def filename(self) -> str:
        return f"receipt-{self.receipt_number}.pdf"


async def facts_for(
    session: AsyncSession, *, attempt: PaymentAttempt, settings: Settings
) -> ReceiptFacts:
    """What the receipt of a paid attempt says; ReceiptNotAvailable for any other."""
    if attempt.status is not AttemptStatus.paid:
        raise ReceiptNotAvailable(
            f"payment attempt {attempt.id} is {attempt.status.value}; a receipt exists only for "
            "a paid one"
        )
    if not attempt.receipt_number:
        raise ReceiptNotAvailable(
            f"payment attempt {attempt.id} is paid but M-Pesa's receipt number has not arrived "
            "yet; try again in a few seconds"
        )
    return ReceiptFacts(
        business_name=settings.BUSINESS_NAME,
        paybill=settings.BUSINESS_PAYBILL,
        receipt_number=attempt.receipt_number,
        amount=attempt.amount,
        paid_at=attempt.paid_at or attempt.updated_at,
        paid_for=await _paid_for(session, attempt),
        phone_masked=attempt.phone_masked,
        test_mode=settings.ENVIRONMENT is not Environment.production,
        attempt_id=attempt.id,
    )


async def _paid_for(session: AsyncSession, attempt: PaymentAttempt) -> str:
    repository = PaymentAttemptRepository.from_session(session)
    if attempt.payable_type is PayableType.booking:
        found = await repository.booking_for_receipt(attempt.payable_id)
        if found is None:
            return "Therapy session"
        booking, therapist_name = found
        when = booking.scheduled_at.astimezone(NAIROBI).strftime("%a %d %b %Y, %H:%M EAT")
        kind = booking.session_type.value.capitalize()
        return f"{kind} therapy session with {therapist_name}, {when}"
    if attempt.payable_type is PayableType.order:
        items = await repository.order_item_count(attempt.payable_id)
        reference = attempt.payable_id.hex[:10].upper()
        return f"Shop order {reference} ({items} item{'s' if items != 1 else ''})"
    return "Wallet top-up"


def render_pdf(facts: ReceiptFacts) -> bytes:
    pdf = FPDF(format=(148, 210))  # A5, in mm
    pdf.set_title(_latin1(f"Receipt {facts.receipt_number}"))
    pdf.set_author(_latin1(facts.business_name))
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    width = pdf.epw
    if facts.test_mode:
        pdf.set_font("Helvetica", "B", 12)
        pdf.set_text_color(209, 36, 47)
        pdf.cell(width, 8, "TEST MODE - no real money moved", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(width, 8, _latin1(facts.business_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(width, 6, f"M-Pesa Paybill {facts.paybill}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(width, 8, "Payment receipt", new_x="LMARGIN", new_y="NEXT")
    rows = [
        ("M-Pesa receipt", facts.receipt_number),
        ("Amount", f"KES {facts.amount:,}"),
        ("Date and time", facts.paid_at.astimezone(NAIROBI).strftime("%d %b %Y, %H:%M:%S EAT")),
        ("Paid for", facts.paid_for),
        ("Paid from", facts.phone_masked),
        ("Reference", str(facts.attempt_id)),
    ]
    label_width = 34
    for label, value in rows:
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(label_width, 7, label)
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(width - label_width, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        width,
        5,
        _latin1(
            f"Thank you. Keep this receipt; {facts.business_name} can find your payment by "
            "its M-Pesa receipt number."
        ),
    )
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in folded if not unicodedata.combining(c))
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


async def for_attempt(
    session: AsyncSession, *, attempt_id: uuid.UUID, settings: Settings
) -> tuple[ReceiptFacts, bytes] | None:
    """The receipt of a paid attempt with its receipt number, or None (not paid, no number yet)."""
    attempt = await PaymentAttemptRepository.from_session(session).get_by_id(attempt_id)
    if attempt is None:
        return None
    try:
        facts = await facts_for(session, attempt=attempt, settings=settings)
    except ReceiptNotAvailable:
        return None
    return facts, render_pdf(facts)

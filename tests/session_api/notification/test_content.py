"""Every message renders with the longest names, reasons and amounts the API accepts, and the
receipt PDF too."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from session_api.booking import messages
from session_api.event import messages as staff_messages
from session_api.integrations.gateway import GatewayPayment, ReconciliationRunSummary
from session_api.models import AttemptStatus, Booking, BookingStatus, PaymentAttempt, SessionType
from session_api.notification.content import (
    SMS_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    Message,
    Sender,
    render_email,
    render_sms,
)
from session_api.payment.receipt import ReceiptFacts, render_pdf

LONGEST_NAME = "Wanjiru <b>Nyambura</b> & " + "K" * 94  # 120 characters, the API's limit
LONGEST_BUSINESS = "B" * 80
MAX_KES = 250_000
SENDER = Sender(
    business_name=LONGEST_BUSINESS, paybill="4012345", public_url="https://pay.example.test"
)


def booking() -> Booking:
    return Booking(
        id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        therapist_id=uuid.uuid4(),
        session_type=SessionType.individual,
        scheduled_at=datetime(2026, 12, 24, 6, 30, tzinfo=UTC),
        duration_minutes=60,
        price=MAX_KES,
        status=BookingStatus.approved,
    )


def attempt() -> PaymentAttempt:
    return PaymentAttempt(
        id=uuid.uuid4(),
        amount=MAX_KES,
        status=AttemptStatus.paid,
        receipt_number="UAB1C2D3E4",
        phone_masked="254*****5678",
    )


def every_message() -> list[Message]:
    b, a = booking(), attempt()
    return [
        messages.requested(b, client_name=LONGEST_NAME),
        messages.approved(b, account_reference="BK0123456789"),
        messages.declined(b, reason="R" * 500),
        messages.confirmed(b, a, note=" (M-Pesa receipt UAB1C2D3E4)"),
        messages.paid(b, a, note=" (M-Pesa receipt UAB1C2D3E4)"),
        messages.reminder(
            b, other_name=LONGEST_NAME, lead=1, now=b.scheduled_at - timedelta(minutes=50)
        ),
        staff_messages.open_exceptions(
            ReconciliationRunSummary.model_validate(
                {
                    "id": str(uuid.uuid4()),
                    "shortcode": "4012345",
                    "from": datetime(2026, 12, 1, tzinfo=UTC),
                    "to": datetime(2026, 12, 2, tzinfo=UTC),
                    "sources": ["stk_query", "transaction_status", "pull", "statement"],
                    "summary": {verdict: 1_000_000 for verdict in staff_messages.VERDICTS},
                    "open_exceptions": 5_000_000,
                }
            )
        ),
        staff_messages.refund_failed(
            GatewayPayment.model_validate(
                {
                    "id": str(uuid.uuid4()),
                    "status": "refund_failed",
                    "amount": MAX_KES,
                    "phone": "254*****5678",
                    "receipt_number": "UAB1C2D3E4",
                    "reason": "initiator_credentials_invalid",
                    "result_desc": "R" * 500,
                }
            )
        ),
    ]


@pytest.mark.parametrize("message", every_message(), ids=lambda m: m.kind)
def test_every_message_renders_within_its_limits(message: Message) -> None:
    email = render_email(message, recipient_name=LONGEST_NAME, sender=SENDER)
    sms = render_sms(message, sender=SENDER)

    assert len(email.subject) <= SUBJECT_MAX_CHARS
    assert len(sms) <= SMS_MAX_CHARS
    assert sms.startswith(LONGEST_BUSINESS)
    assert f"Hello {LONGEST_NAME}" in email.text
    # Names are the users' own words: escaped in HTML, never markup.
    assert "<b>Nyambura</b>" not in email.html
    assert "&lt;b&gt;Nyambura&lt;/b&gt;" in email.html


def test_the_approval_says_how_to_pay_without_the_app() -> None:
    email = render_email(
        messages.approved(booking(), account_reference="BK0123456789"),
        recipient_name="Amina",
        sender=SENDER,
    )

    for body in (email.text, email.html):
        assert "KES 250,000" in body
        assert "4012345" in body
        assert "BK0123456789" in body
        assert "https://pay.example.test/bookings/" in body


def test_the_receipt_pdf_holds_everything_with_the_longest_values() -> None:
    facts = ReceiptFacts(
        business_name=LONGEST_BUSINESS,
        paybill="4012345",
        receipt_number="UAB1C2D3E4",
        amount=MAX_KES,
        paid_at=datetime(2026, 12, 1, 21, 15, 7, tzinfo=UTC),
        paid_for=f"Individual therapy session with {LONGEST_NAME}, Thu 24 Dec 2026, 09:30 EAT",
        phone_masked="254*****5678",
        test_mode=True,
        attempt_id=uuid.uuid4(),
    )

    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(facts))).pages
    ).replace("\n", " ")

    assert "UAB1C2D3E4" in text
    assert "KES 250,000" in text
    # 21:15 UTC is past midnight in Nairobi.
    assert "02 Dec 2026, 00:15:07 EAT" in text
    assert "254*****5678" in text
    assert "TEST MODE" in text
    assert "4012345" in text


def test_a_name_outside_latin_1_still_makes_a_receipt() -> None:
    facts = ReceiptFacts(
        business_name="Tiba Therapy",
        paybill="174379",
        receipt_number="UAB1C2D3E4",
        amount=1,
        paid_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        paid_for="Session with Wanjirū Ŋugi 李",
        phone_masked="254*****5678",
        test_mode=False,
        attempt_id=uuid.uuid4(),
    )

    text = PdfReader(io.BytesIO(render_pdf(facts))).pages[0].extract_text()

    assert "Wanjiru" in text
    assert "TEST MODE" not in text

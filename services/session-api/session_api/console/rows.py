"""One attempt as a console row (names, what was paid for, the gateway's facts), and the
opaque cursor that pages through rows in a given sort."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from session_api.console import export
from session_api.console.exceptions import InvalidCursor
from session_api.console.repository import AttemptView
from session_api.console.schemas import (
    AdminPaymentRow,
    ClientOut,
    Environment,
    PaidFor,
    PaymentSort,
)
from session_api.integrations.gateway import GatewayPaymentFacts
from session_api.models import PayableType
from shared.logging import mask_checkout_ids
from shared.schemas import supported_moment

Facts = dict[str, GatewayPaymentFacts]


def row_of(view: AttemptView, facts: Facts | None) -> AdminPaymentRow:
    fact = (facts or {}).get(view.gateway_payment_id)
    environment = (fact.environment if fact else None) or view.environment
    return AdminPaymentRow(
        id=view.id,
        created_at=view.created_at,
        amount=view.amount,
        status=view.status,
        reason=view.reason,
        status_detail=view.result_desc,
        result_code=view.result_code,
        client=ClientOut(id=view.client_id, name=view.client_name, email=view.client_email),
        paid_for=paid_for(view),
        attempt_number=view.attempt_number,
        receipt_number=view.receipt_number,
        phone=view.phone_masked,
        environment=_environment(environment),
        # Daraja writes the payer's number into the id: staff see its time and last digits.
        checkout_request_id=(
            mask_checkout_ids(view.checkout_request_id) if view.checkout_request_id else None
        ),
        gateway_payment_id=view.gateway_payment_id,
        held_for_review=fact.review_reason if fact else None,
        reconciliation_verdict=fact.verdict if fact else None,
        open_exception=fact.open_exception if fact else False,
    )


def _environment(value: str | None) -> Environment | None:
    return Environment(value) if value in ("sandbox", "production") else None


def paid_for(view: AttemptView) -> PaidFor:
    kind = PayableType(view.payable_type)
    reference = kind.account_reference(view.payable_id)
    if kind is PayableType.booking:
        when = export.nairobi(view.session_at).replace("T", " ")[:16] if view.session_at else "?"
        return PaidFor(
            type=kind,
            id=view.payable_id,
            reference=reference,
            summary=f"Session with {view.therapist_name or 'a therapist'}, {when} EAT",
            therapist_name=view.therapist_name,
            session_at=view.session_at,
            status=view.booking_status,
        )
    if kind is PayableType.order:
        return PaidFor(
            type=kind,
            id=view.payable_id,
            reference=reference,
            summary=f"Order {reference}",
            order_number=reference,
            status=view.order_status,
        )
    return PaidFor(
        type=kind,
        id=view.payable_id,
        reference=reference,
        summary="Wallet deposit",
        status=view.deposit_status,
    )


def encode_cursor(view: AttemptView, *, sort: PaymentSort) -> str:
    key: list[Any] = [view.created_at.isoformat(), str(view.id)]
    if sort in (PaymentSort.amount_desc, PaymentSort.amount_asc):
        key = [view.amount, *key]
    raw = json.dumps({"s": sort.value, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, sort: PaymentSort) -> tuple[Any, ...]:
    """The sort key after which the next page starts; refused if made for another sort."""
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if body["s"] != sort.value:
            raise ValueError("another sort")
        *amount, created_at, attempt_id = body["k"]
        key: tuple[Any, ...] = (
            supported_moment(datetime.fromisoformat(created_at)),
            uuid.UUID(attempt_id),
        )
        if sort in (PaymentSort.amount_desc, PaymentSort.amount_asc):
            (value,) = amount
            if not isinstance(value, int):
                raise ValueError("amount")
            key = (value, *key)
        elif amount:
            raise ValueError("extra key")
        return key
    except (binascii.Error, ValueError, TypeError, KeyError) as e:
        raise InvalidCursor(
            "cursor must be the next_cursor of a previous page with the same sort, unchanged"
        ) from e

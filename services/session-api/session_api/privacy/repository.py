"""SQL of erasure: every table of session-api that can hold an account's personal data."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import InstrumentedAttribute

from session_api.models import (
    AttemptStatus,
    Booking,
    DeliveryStatus,
    GatewayEvent,
    Notification,
    NotificationDelivery,
    Order,
    PaymentAttempt,
    TherapistProfile,
    User,
    WalletDeposit,
)
from session_api.repository import Repository

ERASED = "[erased]"

# Text other people's rows may carry about someone: messages that name them (a therapist told
# who booked), what a therapist wrote when declining, what the gateway sent back.
_TEXT_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Notification.title,
    Notification.body,
    NotificationDelivery.subject,
    NotificationDelivery.text,
    NotificationDelivery.html,
    NotificationDelivery.reason,
    Booking.notes,
    Booking.decline_reason,
    PaymentAttempt.customer_message,
    PaymentAttempt.result_desc,
    TherapistProfile.bio,
)
_JSON_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Notification.data,
    NotificationDelivery.content,
    Order.delivery,
    Order.customer,
    GatewayEvent.payload,
)


class ErasureRepository(Repository[User]):
    model = User

    async def attempts(self, user_id: uuid.UUID) -> Sequence[PaymentAttempt]:
        statement = (
            select(PaymentAttempt)
            .where(PaymentAttempt.user_id == user_id)
            .with_for_update()
            .order_by(PaymentAttempt.created_at)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def orders(self, user_id: uuid.UUID) -> Sequence[Order]:
        statement = select(Order).where(Order.user_id == user_id).with_for_update()
        return (await self.session.execute(statement)).scalars().all()

    async def open_deposits(self, user_id: uuid.UUID) -> int:
        statement = select(func.count()).where(
            WalletDeposit.user_id == user_id, WalletDeposit.status == AttemptStatus.processing
        )
        return await self.session.scalar(statement) or 0

    async def forget_own_rows(self, user_id: uuid.UUID) -> None:
        """The account's own messages, outbox rows, booking notes and deposits' phones."""
        await self.session.execute(delete(Notification).where(Notification.user_id == user_id))
        await self.session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.user_id == user_id)
            .values(
                address=ERASED,
                content={},
                subject=None,
                text=None,
                html=None,
                provider_message_id=None,
            )
        )
        # Nothing more goes out to an erased address.
        await self.session.execute(
            update(NotificationDelivery)
            .where(
                NotificationDelivery.user_id == user_id,
                NotificationDelivery.status.in_((DeliveryStatus.queued, DeliveryStatus.sending)),
            )
            .values(status=DeliveryStatus.failed, reason="recipient erased")
        )
        await self.session.execute(
            update(Booking).where(Booking.client_id == user_id).values(notes="")
        )
        await self.session.execute(
            update(WalletDeposit)
            .where(WalletDeposit.user_id == user_id)
            .values(phone_masked=ERASED)
        )
        await self.session.execute(
            update(PaymentAttempt)
            .where(PaymentAttempt.user_id == user_id)
            .values(phone_masked=ERASED)
        )
        await self.session.execute(
            update(TherapistProfile)
            .where(TherapistProfile.user_id == user_id)
            .values(bio="", is_accepting_clients=False)
        )

    async def replace_everywhere(self, replacements: dict[str, str]) -> None:
        """Replace each word wherever the columns above hold it, in anyone's rows."""
        for word, replacement in replacements.items():
            for column in _TEXT_COLUMNS:
                await self.session.execute(
                    update(column.class_)
                    .where(column.contains(word, autoescape=True))
                    .values({column.key: func.replace(column, word, replacement)})
                    .execution_options(synchronize_session=False)
                )
            # Inside JSON the word is written JSON-escaped; replaced in the text form and read back.
            escaped, escaped_replacement = _json_fragment(word), _json_fragment(replacement)
            for column in _JSON_COLUMNS:
                as_text = cast(column, String)
                await self.session.execute(
                    update(column.class_)
                    .where(as_text.contains(escaped, autoescape=True))
                    .values(
                        {
                            column.key: cast(
                                func.replace(as_text, escaped, escaped_replacement), JSONB
                            )
                        }
                    )
                    .execution_options(synchronize_session=False)
                )


def _json_fragment(word: str) -> str:
    return json.dumps(word, ensure_ascii=False)[1:-1]

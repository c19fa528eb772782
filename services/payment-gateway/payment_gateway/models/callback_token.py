from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import CreatedAtMixin


class CallbackToken(CreatedAtMixin, Base):
    """The secret in one push's `CallBackURL`, stored only as its SHA-256.

    Each push attempt gets its own token and every one stays valid: a push whose answer was
    lost may still ring the phone, and its callback must still find the payment.
    """

    __tablename__ = "callback_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payment.id", ondelete="CASCADE"), nullable=False, index=True
    )
    push_attempt: Mapped[int] = mapped_column(Integer, nullable=False)

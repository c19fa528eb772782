from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, LargeBinary, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import check_in, utcnow


class ResultInbox(Base):
    """What Daraja posts about M-Pesa's records, exactly as it arrived, stored before anything
    acts on it: a Transaction Status Result (at a ResultURL or QueueTimeOutURL) or a C2B
    confirmation."""

    __tablename__ = "result_inbox"
    __table_args__ = (
        check_in("kind", ("result", "timeout", "c2b")),
        Index(
            "result_inbox_unprocessed_idx",
            "received_at",
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # The token and a hash of the body: an identical resend collides here.
    dedupe_key: Mapped[str] = mapped_column(String(160), nullable=False, unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=utcnow
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)

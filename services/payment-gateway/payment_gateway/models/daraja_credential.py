from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, LargeBinary, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import TimestampMixin, check_in


class DarajaEnvironment(StrEnum):
    sandbox = "sandbox"
    production = "production"


class ShortcodeType(StrEnum):
    paybill = "paybill"
    till = "till"


# The columns sealed with the row's data key (credentials.envelope); the rest is not secret.
SECRET_COLUMNS = (
    "consumer_key",
    "consumer_secret",
    "passkey",
    "initiator_name",
    "security_credential",
)


class DarajaCredential(TimestampMixin, Base):
    """One environment's Daraja app and shortcode. The secrets are AES-256-GCM ciphertexts under
    the row's own data key, which is stored wrapped by key-encryption key ``key_id``."""

    __tablename__ = "daraja_credential"
    __table_args__ = (
        check_in("environment", DarajaEnvironment),
        check_in("shortcode_type", ShortcodeType),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    environment: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    shortcode: Mapped[str] = mapped_column(String(16), nullable=False)
    shortcode_type: Mapped[str] = mapped_column(String(16), nullable=False)
    callback_base_url: Mapped[str] = mapped_column(String(300), nullable=False)
    key_id: Mapped[str] = mapped_column(String(32), nullable=False)
    data_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    consumer_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    consumer_secret: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    passkey: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    initiator_name: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    security_credential: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)
    # The last connection test: when, and whether both steps passed.
    tested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    test_passed: Mapped[bool | None] = mapped_column(Boolean)

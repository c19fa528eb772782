from __future__ import annotations

import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import make_metadata

SCHEMA = "sessions"


class Base(DeclarativeBase):
    metadata = make_metadata(SCHEMA)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()")
    )


def str_enum(enum_cls: type[StrEnum]) -> sa.Enum:
    """A VARCHAR column holding an enum's values. The CHECK constraint is declared explicitly on
    each table (and in the migration) so its name is stable."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )

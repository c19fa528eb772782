"""ORM models of session-api, one file per table, all in the `sessions` schema."""

from session_api.models.base import Base

__all__ = ["Base"]

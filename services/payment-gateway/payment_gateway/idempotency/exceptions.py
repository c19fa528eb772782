"""Errors of `Idempotency-Key` handling (Stripe semantics)."""

from __future__ import annotations

from shared.errors import Conflict, DomainError


class IdempotencyKeyReused(DomainError):
    """This Idempotency-Key was first used with a different request body."""

    status_code = 422


class IdempotencyKeyInUse(Conflict):
    """A request with this Idempotency-Key is still being processed."""

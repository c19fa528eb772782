"""`Idempotency-Key` with Stripe semantics: the same key and body replay the first response,
another body is refused, a concurrent duplicate is refused while the first runs."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.idempotency.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from payment_gateway.idempotency.repository import IdempotencyKeyRepository
from shared.db import utcnow


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


@dataclass(frozen=True)
class Claim:
    """The caller now owns the key. `payment_id` is set when an earlier request with this key
    died after creating its payment: the caller resumes that payment instead of a new one."""

    record_id: int
    payment_id: uuid.UUID | None = None


def request_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession,
    *,
    principal: str,
    key: str,
    fingerprint: str,
    settings: Settings,
) -> Claim | Replay:
    now = utcnow()
    expires_at = now + timedelta(hours=settings.IDEMPOTENCY_TTL_H)
    new_id = await IdempotencyKeyRepository.from_session(session).insert_new(
        principal=principal,
        key=key,
        request_hash=fingerprint,
        now=now,
        expires_at=expires_at,
    )
    if new_id is not None:
        return Claim(record_id=new_id)
    record = await IdempotencyKeyRepository.from_session(session).lock_existing(
        principal=principal, key=key
    )
    if record is None:  # deleted by the expiry sweep between the two statements
        return await claim(
            session, principal=principal, key=key, fingerprint=fingerprint, settings=settings
        )
    if record.expires_at <= now:
        await IdempotencyKeyRepository.from_session(session).restart(
            record=record, request_hash=fingerprint, now=now, expires_at=expires_at
        )
        return Claim(record_id=record.id)
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was first used with a different request body; send the "
            "same body to get the first response again, or use a new key for a new payment"
        )
    if record.response_status is not None and record.response_body is not None:
        return Replay(status=record.response_status, body=record.response_body)
    lock_timeout = timedelta(seconds=settings.IDEMPOTENCY_LOCK_TIMEOUT_S)
    if record.locked_at is not None and record.locked_at > now - lock_timeout:
        retry_after = max(1, int((record.locked_at + lock_timeout - now).total_seconds()))
        raise IdempotencyKeyInUse(
            f"a request with Idempotency-Key {key!r} is still being processed; retry after it "
            "finishes to get its response",
            headers={"Retry-After": str(min(retry_after, 5))},
        )
    # The first request died mid-way; take the key over.
    record.locked_at = now
    await session.flush()
    return Claim(record_id=record.id, payment_id=record.payment_id)


async def attach_payment(session: AsyncSession, *, claim: Claim, payment_id: uuid.UUID) -> None:
    await IdempotencyKeyRepository.from_session(session).attach_payment(
        record_id=claim.record_id, payment_id=payment_id
    )


async def complete(session: AsyncSession, *, claim: Claim, status: int, body: str) -> None:
    await IdempotencyKeyRepository.from_session(session).store_response(
        record_id=claim.record_id, status=status, body=body
    )


async def prune(session: AsyncSession) -> int:
    return await IdempotencyKeyRepository.from_session(session).delete_expired(now=utcnow())

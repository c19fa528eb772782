"""Erasing an account: its personal data anonymised in every table, its payments and wallet kept.

What stays: the account row (payments, bookings, orders and the wallet point at it) with its
role, dates and wallet balance; every payment attempt, deposit and ledger entry with its id,
amount, receipt and dates. What goes: the name, e-mail address and phone wherever session-api
holds them (the phone is kept only as a keyed hash), the account's own messages and notes, its
orders' delivery and contact details, and, through the gateway, its payments' phones (hashed
there too) and the raw callbacks and records that carry them. Erasure waits for payments in
flight: an open prompt would otherwise settle into an account that no longer answers.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.auth import service as auth_service
from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient, GatewayError, GatewayRejected
from session_api.models import AttemptStatus, Order, PaymentAttempt, User
from session_api.privacy.exceptions import (
    ErasureRefused,
    ErasureUnavailable,
    UserNotFound,
    WrongPassword,
)
from session_api.privacy.repository import ERASED, ErasureRepository
from session_api.privacy.schemas import ErasureOut
from shared.phone import keyed_phone_hash, normalise_phone
from shared.ratelimit import RateLimiter, TooManyRequests

log = structlog.get_logger(__name__)

ERASED_NAME = "Erased user"
# A password hash no password verifies against.
UNUSABLE_PASSWORD_HASH = "!erased"  # noqa: S105 (not a password: a hash nothing matches)


async def erase_me(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    settings: Settings,
    limiter: RateLimiter,
    user: User,
    password: str,
) -> ErasureOut:
    # Wrong passwords here count with failed logins: a stolen token is no way to guess one.
    lockout = auth_service.login_failures(settings)
    await limiter.check(lockout, user.email)
    if not await auth_service.verify_password(settings, user.password_hash, password):
        with contextlib.suppress(TooManyRequests):
            await limiter.hit(lockout, user.email)
        raise WrongPassword("the password is wrong; erasing your account needs your password")
    return await erase(session, gateway=gateway, settings=settings, user=user, actor=user)


async def erase_user(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    settings: Settings,
    user_id: uuid.UUID,
    admin: User,
) -> ErasureOut:
    if user_id == admin.id:
        raise ErasureRefused("to erase your own account use DELETE /v1/me, with your password")
    user = await ErasureRepository.from_session(session).lock(user_id)
    if user is None:
        raise UserNotFound(f"no account {user_id}")
    return await erase(session, gateway=gateway, settings=settings, user=user, actor=admin)


async def erase(
    session: AsyncSession, *, gateway: GatewayClient, settings: Settings, user: User, actor: User
) -> ErasureOut:
    repository = ErasureRepository.from_session(session)
    if user.erased_at is not None:
        raise ErasureRefused(f"account {user.id} was erased at {user.erased_at.isoformat()}")
    attempts = await repository.attempts(user.id)
    in_flight = [a for a in attempts if a.status is AttemptStatus.processing]
    if in_flight or await repository.open_deposits(user.id):
        raise ErasureRefused(
            "a payment is in flight (waiting for the customer on the phone); erase the "
            "account once it has ended"
        )
    orders = await repository.orders(user.id)
    words = _personal_words(user, orders)
    # The gateway first: if it cannot erase, nothing here changes and the request can be retried
    # (its erasure is idempotent). The attempts stay locked across the call on purpose: an event
    # for one of them waits, instead of writing the gateway's view back half-way through.
    erased = await _erase_at_gateway(gateway, attempts=attempts, words=words, settings=settings)
    replacements = {word: ERASED for word in words}
    # Daraja writes the payer's number into the CheckoutRequestID; the gateway rewrote it.
    current = erased.get("checkout_request_ids") or {}
    for attempt in attempts:
        new_id = current.get(attempt.gateway_payment_id)
        if attempt.checkout_request_id and new_id and new_id != attempt.checkout_request_id:
            replacements[attempt.checkout_request_id] = new_id
            attempt.checkout_request_id = new_id
        if attempt.phone_masked and attempt.phone_masked != ERASED:
            replacements[attempt.phone_masked] = ERASED
    await session.flush()
    await repository.forget_own_rows(user.id)
    for order in orders:
        order.delivery = {
            "method": order.delivery.get("method", "delivery"),
            "address": None,
            "city": None,
            "notes": "",
        }
        order.customer = {"name": ERASED_NAME, "phone": None, "email": None}
    await session.flush()
    # Longest first, so a longer word is replaced before a shorter one inside it.
    await repository.replace_everywhere(
        dict(sorted(replacements.items(), key=lambda item: len(item[0]), reverse=True))
    )
    moment = _anonymise(user, settings=settings)
    await session.flush()
    # Ids and counts only: the audit trail cannot be edited, so it must never hold what erasure
    # removes.
    await audit.record(
        session,
        action="account.erased",
        actor=audit.actor_of(actor),
        subject=f"user:{user.id}",
        details={"by": actor.role.value, "payments_kept": len(attempts)},
    )
    log.info(
        "account_erased",
        user_id=str(user.id),
        actor_id=str(actor.id),
        payments_kept=len(attempts),
    )
    return ErasureOut(user_id=user.id, erased_at=moment, payments_kept=len(attempts))


async def _erase_at_gateway(
    gateway: GatewayClient,
    *,
    attempts: Sequence[PaymentAttempt],
    words: list[str],
    settings: Settings,
) -> dict[str, Any]:
    try:
        return await gateway.erase_payments(
            [a.gateway_payment_id for a in attempts],
            redact=_gateway_words(words),
        )
    except GatewayRejected as e:
        if e.http_status == 409:
            raise ErasureRefused(
                "the payment gateway still has a payment of this account in flight; erase the "
                "account once it has ended"
            ) from e
        raise ErasureUnavailable(f"the payment gateway refused the erasure: {e.detail}") from e
    except GatewayError as e:
        retry_after = e.retry_after_s or settings.GATEWAY_RETRY_AFTER_S
        raise ErasureUnavailable(
            f"the payment gateway is unavailable; nothing was erased. Try again in "
            f"{retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        ) from e


def _anonymise(user: User, *, settings: Settings) -> datetime:
    """The account itself: no name, e-mail or phone left (the phone only as a keyed hash), and no
    way to sign in. Returns when it was erased."""
    moment = datetime.now(UTC)
    key = settings.PHONE_HASH_KEY.get_secret_value()
    user.phone_hash = keyed_phone_hash(user.phone, key=key) if user.phone else None
    user.phone = None
    user.full_name = ERASED_NAME
    user.email = f"erased-{user.id.hex}@erased.invalid"
    user.password_hash = UNUSABLE_PASSWORD_HASH
    user.is_active = False
    user.erased_at = moment
    return moment


def _gateway_words(words: list[str]) -> list[str]:
    """What the gateway blanks in this payer's own records: the names and e-mail addresses, and
    each part of a name too (C2B confirmations carry first and last names apart). Not the
    phones: the gateway knows each payment's phone itself."""
    kept = [w for w in words if not _is_phone(w)]
    parts = {part for w in kept if "@" not in w for part in w.split() if len(part) >= 3}
    return sorted(set(kept) | parts, key=len, reverse=True)[:50]


def _is_phone(word: str) -> bool:
    try:
        normalise_phone(word)
    except ValueError:
        return False
    return True


def _personal_words(user: User, orders: Sequence[Order]) -> list[str]:
    """Every spelling of the person's name, e-mail address and phones that other rows may
    carry: the account's, and the contact details given on its orders."""
    names = {user.full_name, user.email}
    phones = {user.phone} if user.phone else set()
    for order in orders:
        customer = order.customer or {}
        names.update(v for v in (customer.get("name"), customer.get("email")) if v)
        if customer.get("phone"):
            phones.add(str(customer["phone"]))
    spellings: set[str] = set()
    for phone in phones:
        try:
            full = normalise_phone(phone)
        except ValueError:
            spellings.add(phone)
            continue
        spellings.update({full, "0" + full[3:], "+" + full})
    # Words under three characters would blank unrelated text.
    return sorted(w for w in names | spellings if len(w.strip()) >= 3)

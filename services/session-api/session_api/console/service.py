"""What staff read about payments: a filtered, sorted, cursor-paginated list whose rows carry
names; the same rows streamed as CSV; one payment with every attempt at its payable and the
gateway's timeline merged with ours; and the stats the gateway computes.

Session-api's own tables answer the search (attempts, clients, payables); the gateway adds what
only it knows (a hold, the reconciliation verdict) one page or batch at a time. If the gateway
cannot be asked, staff still get the rows, marked as such, rather than an error.

Every read is audited with who read what and the filters used; a searched text that may be a
name, an e-mail address or a phone is recorded only as what kind of text it was (masked).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.console import export, rows
from session_api.console.exceptions import (
    GatewayStatsUnavailable,
    InvalidFilter,
    PaymentAttemptNotFound,
)
from session_api.console.repository import (
    AttemptFilters,
    AttemptView,
    ConsoleRepository,
    QueryTerms,
)
from session_api.console.rows import Facts
from session_api.console.schemas import (
    AdminPaymentDetail,
    AdminPaymentPage,
    AdminStats,
    Granularity,
    PaymentSort,
    TimelineEntry,
)
from session_api.integrations.gateway import (
    GatewayClient,
    GatewayError,
    GatewayRejected,
)
from session_api.models import PayableType, User
from shared import db
from shared.phone import mask_phone, normalise_phone

log = structlog.get_logger(__name__)


_REFERENCE = re.compile(r"^(BK|OR|WL)([0-9A-F]{1,10})$", re.IGNORECASE)
_RECEIPT = re.compile(r"^[A-Z0-9]{10}$", re.IGNORECASE)
_PREFIX_TYPES = {"BK": PayableType.booking, "OR": PayableType.order, "WL": PayableType.deposit}
# An actor the gateway records for a person acting through us (`user:<id>`, after its source).
_USER_ACTOR = re.compile(
    r"(?:^|:)user:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", re.IGNORECASE
)


def acting_user(user: User) -> str:
    """How the gateway's records name a staff member: `user:<id>`, never an e-mail address."""
    return audit.actor_of(user)


def query_terms(q: str | None) -> QueryTerms | None:
    """Everything a search box's text could be: a name or e-mail (matched in part), a receipt,
    a checkout request id, a phone or its last digits, a booking, order or attempt id, or an
    order number / account reference."""
    if q is None or not q.strip():
        return None
    text = q.strip()
    compact = re.sub(r"[\s-]", "", text)
    terms: dict[str, Any] = {"text": text}
    if _RECEIPT.match(text):
        terms["receipt"] = text.upper()
    digits = compact.removeprefix("+")
    if digits.isdigit():
        if len(digits) <= 4:
            terms["phone_suffix"] = digits
        else:
            try:
                terms["phone"] = normalise_phone(compact)
            except ValueError:
                terms["phone_suffix"] = digits[-4:]
    if _is_uuid(text):
        terms["uuid"] = uuid.UUID(text)
    reference = _REFERENCE.match(compact)
    if reference:
        terms["reference"] = (_PREFIX_TYPES[reference[1].upper()], reference[2].lower())
    if "phone" in terms:
        terms["masked_phone"] = mask_phone(terms.pop("phone"))
    return QueryTerms(**terms)


async def resolve_terms(q: str | None, *, gateway: GatewayClient, user: User) -> QueryTerms | None:
    """`query_terms`, with a whole phone number looked up at the gateway (which alone keeps it
    unmasked) so it matches exactly that phone's payments."""
    terms = query_terms(q)
    if terms is None or terms.masked_phone is None or q is None:
        return terms
    phone = normalise_phone(re.sub(r"[\s-]", "", q.strip()))
    try:
        ids = await gateway.payment_ids_for_phone(phone, acting_user=acting_user(user))
    except GatewayError as e:
        log.warning("console_gateway_phone_lookup_unavailable", error=e.message)
        return terms
    return replace(terms, phone_payments=tuple(ids))


def check_filters(filters: AttemptFilters) -> None:
    for name, moment in (("from", filters.created_from), ("to", filters.created_to)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidFilter(f"{name} must carry a UTC offset, e.g. 2026-12-01T00:00:00+03:00")
    if filters.created_from and filters.created_to and filters.created_from >= filters.created_to:
        raise InvalidFilter("from must be earlier than to")
    if (
        filters.amount_min is not None
        and filters.amount_max is not None
        and filters.amount_min > filters.amount_max
    ):
        raise InvalidFilter("amount_min must not be greater than amount_max")


async def search(
    session: AsyncSession,
    *,
    filters: AttemptFilters,
    q: str | None,
    sort: PaymentSort,
    cursor: str | None,
    limit: int,
    gateway: GatewayClient,
    user: User,
) -> AdminPaymentPage:
    """A page of attempts and the cursor of the next one (None at the end)."""
    check_filters(filters)
    after = rows.decode_cursor(cursor, sort=sort) if cursor else None
    terms = await resolve_terms(q, gateway=gateway, user=user)
    views = await ConsoleRepository.from_session(session).page(
        filters=filters, terms=terms, sort=sort, after=after, limit=limit + 1
    )
    page = views[:limit]
    facts = await _facts(gateway, page, user=user)
    await audit.record(
        session,
        action="payment.listed",
        actor=audit.actor_of(user),
        details={
            **_audited_search(filters, q=q, sort=sort, user=user),
            "cursor": cursor is not None,
            "limit": limit,
            "shown": len(page),
        },
    )
    return AdminPaymentPage(
        items=[rows.row_of(view, facts) for view in page],
        next_cursor=rows.encode_cursor(page[-1], sort=sort) if len(views) > limit else None,
        gateway_facts=facts is not None,
    )


async def export_csv(
    session: AsyncSession,
    *,
    filters: AttemptFilters,
    q: str | None,
    sort: PaymentSort,
    batch: int,
    gateway: GatewayClient,
    user: User,
) -> AsyncIterator[str]:
    """The CSV, a header and then one batch of rows at a time."""
    check_filters(filters)
    terms = await resolve_terms(q, gateway=gateway, user=user)
    searched = _audited_search(filters, q=q, sort=sort, user=user)
    await audit.record(
        session, action="payment.export_started", actor=audit.actor_of(user), details=searched
    )
    # Committed before the first row is sent: an export cut off half-way was still an export.
    await db.commit(session)
    log.info("console_export_started", acting_user=acting_user(user))

    async def chunks() -> AsyncIterator[str]:
        yield export.lines([export.HEADER])
        written = 0
        stream = ConsoleRepository.from_session(session).stream(
            filters=filters, terms=terms, sort=sort, batch=batch
        )
        async for views in stream:
            facts = await _facts(gateway, views, user=user)
            yield export.lines(export.cells(rows.row_of(view, facts)) for view in views)
            written += len(views)
        await audit.record(
            session,
            action="payment.exported",
            actor=audit.actor_of(user),
            details={**searched, "rows": written},
        )
        log.info("console_export_finished", acting_user=acting_user(user), rows=written)

    return chunks()


async def detail(
    session: AsyncSession, *, attempt_id: uuid.UUID, gateway: GatewayClient, user: User
) -> AdminPaymentDetail:
    repository = ConsoleRepository.from_session(session)
    view = await repository.one(attempt_id)
    if view is None:
        raise PaymentAttemptNotFound(f"no payment attempt has id {attempt_id}")
    attempts = await repository.of_payable(view.payable_type, view.payable_id)
    facts = await _facts(gateway, attempts, user=user)
    timeline, complete = await _gateway_timeline(gateway, view, user=user)
    entries = sorted(
        [*_attempt_entries(attempts), *await _named(repository, timeline)],
        key=lambda entry: entry.at,
    )
    row = rows.row_of(view, facts)
    await audit.record(
        session,
        action="payment.viewed",
        actor=audit.actor_of(user),
        subject=f"payment_attempt:{view.id}",
        details={
            "view": "console",
            "role": user.role,
            "owner": view.client_id,
            "payable_type": view.payable_type,
            "payable_id": view.payable_id,
        },
    )
    return AdminPaymentDetail(
        payment=row,
        client=row.client,
        paid_for=row.paid_for,
        attempts=[rows.row_of(a, facts) for a in attempts],
        timeline=entries,
        timeline_complete=complete,
    )


async def stats(
    session: AsyncSession,
    *,
    window_from: datetime,
    window_to: datetime,
    granularity: Granularity,
    gateway: GatewayClient,
    user: User,
) -> AdminStats:
    params = {
        "from": window_from.isoformat(),
        "to": window_to.isoformat(),
        "granularity": granularity.value,
    }
    try:
        body = await gateway.payment_stats(params, acting_user=acting_user(user))
    except GatewayRejected as e:
        if e.http_status in (400, 422):
            raise InvalidFilter(e.detail or e.message) from e
        raise GatewayStatsUnavailable(f"the payment gateway refused the stats: {e.message}") from e
    except GatewayError as e:
        raise GatewayStatsUnavailable(
            f"the payment gateway did not answer ({e.message}); try again shortly"
        ) from e
    await audit.record(
        session,
        action="payment.stats_viewed",
        actor=audit.actor_of(user),
        details={**params, "role": user.role},
    )
    return AdminStats.model_validate(body)


def _audited_search(
    filters: AttemptFilters, *, q: str | None, sort: PaymentSort, user: User
) -> dict[str, Any]:
    """The filters of a list or export as the audit trail keeps them: ids and masked values."""
    chosen = {
        key: value
        for key, value in vars(filters).items()
        if key != "q" and value not in (None, [], ())
    }
    searched = audited_query(q)
    return {
        "view": "console",
        "role": user.role,
        "filters": {**chosen, **({"q": searched} if searched else {})},
        "sort": sort,
    }


def audited_query(q: str | None) -> dict[str, Any] | None:
    """What a searched text was, never the text itself when it may be personal: a receipt, an
    id or a reference as typed; a phone masked; anything else (a name, an e-mail address) only
    as its length."""
    terms = query_terms(q)
    if terms is None:
        return None
    # Only a receipt mixes letters and digits: ten letters may be a name, ten digits a phone.
    receipt = terms.receipt
    if receipt is not None and (receipt.isalpha() or receipt.isdigit()):
        receipt = None
    # Likewise a reference without a digit may be a name ("Orca" reads as order "ca").
    reference = None
    if terms.reference and not terms.reference[1].isalpha():
        reference = f"{terms.reference[0].value}:{terms.reference[1]}"
    known = {
        "receipt": receipt,
        "id": terms.uuid,
        "reference": reference,
        "phone": terms.masked_phone,
        "phone_suffix": terms.phone_suffix,
    }
    kept = {key: value for key, value in known.items() if value is not None}
    return kept or {"text_length": len(terms.text)}


async def _facts(
    gateway: GatewayClient, views: Sequence[AttemptView], *, user: User
) -> Facts | None:
    # The gateway's payment ids are UUIDs; anything else cannot be one of its payments.
    ids = [v.gateway_payment_id for v in views if _is_uuid(v.gateway_payment_id)]
    try:
        found = await gateway.payment_facts(ids, acting_user=acting_user(user))
    except GatewayError as e:
        log.warning("console_gateway_facts_unavailable", error=e.message)
        return None
    return {f.id: f for f in found}


async def _gateway_timeline(
    gateway: GatewayClient, view: AttemptView, *, user: User
) -> tuple[list[TimelineEntry], bool]:
    try:
        body = await gateway.payment_timeline(
            view.gateway_payment_id, acting_user=acting_user(user)
        )
    except GatewayError as e:
        log.warning("console_gateway_timeline_unavailable", error=e.message)
        return [], False
    return [TimelineEntry.model_validate(entry) for entry in body.get("entries", [])], True


async def _named(
    repository: ConsoleRepository, entries: list[TimelineEntry]
) -> list[TimelineEntry]:
    """The gateway names staff by id only (`user:<id>`): the person's name, as it is now, is
    added here for the console to show."""
    ids = {
        entry.actor: uuid.UUID(match[1])
        for entry in entries
        if entry.actor and (match := _USER_ACTOR.search(entry.actor))
    }
    names = await repository.names(list(set(ids.values())))
    return [
        entry.model_copy(update={"actor_name": names.get(ids[entry.actor])})
        if entry.actor in ids
        else entry
        for entry in entries
    ]


def _attempt_entries(attempts: Sequence[AttemptView]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=a.created_at,
            kind="attempt",
            summary=f"Attempt {a.attempt_number} started: KES {a.amount:,} from {a.phone_masked}",
            actor=f"client:{a.client_id}",
            actor_name=a.client_name,
            status=None,
            reason=None,
            result_code=None,
            failure=False,
            guidance=None,
            detail={"attempt_id": str(a.id), "gateway_payment_id": a.gateway_payment_id},
        )
        for a in attempts
    ]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

"""The staff console's reads of payments: the facts a list row needs from the gateway, one
payment's history merged into a single time-ordered timeline with guidance on every failure,
and the statistics behind the charts."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.console import guidance
from payment_gateway.console.exceptions import InvalidWindow
from payment_gateway.console.repository import (
    NAIROBI,
    ConsoleRepository,
    DeliveryRow,
    VerdictRow,
    Window,
)
from payment_gateway.console.schemas import (
    Bucket,
    EntryKind,
    Granularity,
    GuidanceOut,
    PaymentFacts,
    PaymentStats,
    PaymentTimeline,
    ReasonCount,
    StatusTotals,
    TimelineEntry,
)
from payment_gateway.integrations.daraja import outcome_for
from payment_gateway.models import (
    SELF_SETTLING,
    CallbackInbox,
    EventSource,
    PaymentEvent,
    PaymentPoll,
    PaymentStatus,
    ReconciliationException,
)
from payment_gateway.payment import service as payment_service
from payment_gateway.payment import state as payment_state
from payment_gateway.payment.lifecycle import LATE_SUCCESS
from payment_gateway.payment.schemas import PaymentOut
from shared.logging import mask_phone_numbers
from shared.phone import mask_phone

FAILED = frozenset({PaymentStatus.failed, PaymentStatus.cancelled, PaymentStatus.timeout})
# A refunded payment was paid: it counts as a success of its day, and its refund as its own row.
_ENDED = (*sorted(payment_state.PAID), *sorted(FAILED))
# Notes on the timeline that need a person, beside failures.
_TROUBLE_NOTES = frozenset({"held_amount_mismatch", "held_phone_mismatch", "contradiction_ignored"})
_ZONE = ZoneInfo(NAIROBI)

log = structlog.get_logger(__name__)


async def facts(session: AsyncSession, *, ids: list[uuid.UUID]) -> list[PaymentFacts]:
    """What only the gateway knows about each of these payments; unknown ids are left out."""
    repository = ConsoleRepository.from_session(session)
    payments = await repository.payments(ids)
    reconciled = await repository.reconciled([p.id for p in payments])
    return [
        PaymentFacts(
            id=p.id,
            status=p.status,
            environment=p.environment,
            phone=mask_phone(p.phone),
            reason=p.reason,
            result_code=p.result_code,
            receipt_number=p.receipt_number,
            review_reason=p.review_reason,
            verdict=reconciled[p.id].verdict,
            open_exception=reconciled[p.id].open_exception,
        )
        for p in payments
    ]


async def timeline(session: AsyncSession, *, payment_id: uuid.UUID) -> PaymentTimeline:
    """Every record of the payment's history, oldest first: our events (staff actions among
    them), Daraja's callbacks as received (phone masked), status queries, deliveries to
    subscribers and reconciliation verdicts."""
    payment = await payment_service.get(session, payment_id=payment_id)
    repository = ConsoleRepository.from_session(session)
    entries = [
        *(_event_entry(e) for e in await repository.events(payment_id)),
        *(_callback_entry(c) for c in await repository.callbacks(payment_id)),
        *(_poll_entry(p) for p in await repository.polls(payment_id)),
        *(_delivery_entry(d) for d in await repository.deliveries(payment_id)),
        *(_verdict_entry(v) for v in await repository.verdicts(payment_id)),
        *(_exception_entry(x) for x in await repository.exceptions(payment_id)),
    ]
    # Stable: entries at the same instant keep the order of the lists above, which is the order
    # in which the gateway records them (an event before the delivery it caused).
    entries.sort(key=lambda entry: entry.at)
    reconciled = (await repository.reconciled([payment_id]))[payment_id]
    return PaymentTimeline(
        payment=PaymentOut.of(payment),
        verdict=reconciled.verdict,
        open_exception=reconciled.open_exception,
        entries=entries,
    )


def _guide(reason: str | None) -> GuidanceOut:
    advice = guidance.for_reason(reason or "unknown_result")
    return GuidanceOut(tell_customer=advice.tell_customer, staff_can=advice.staff_can)


def _event_entry(event: PaymentEvent) -> TimelineEntry:
    staff = event.source == EventSource.admin
    changed = event.from_status != event.to_status
    failure = (changed and event.to_status in FAILED) or event.reason in _TROUBLE_NOTES
    if changed:
        summary = f"{event.from_status or 'new'} → {event.to_status}"
    else:
        summary = (event.reason or "note").replace("_", " ")
    if event.note:
        summary += f": {event.note}"
    return TimelineEntry(
        at=event.at,
        kind=EntryKind.staff_action if staff else EntryKind.event,
        summary=summary,
        actor=f"{event.source}:{event.actor}",
        status=event.to_status,
        reason=event.reason,
        result_code=event.detail.get("result_code"),
        failure=failure,
        guidance=_guide(event.reason) if failure else None,
        detail={**event.detail, **({"note": event.note} if event.note else {})},
    )


def _callback_entry(callback: CallbackInbox) -> TimelineEntry:
    body = masked_body(callback.body)
    stk = body.get("Body", {}).get("stkCallback", {}) if isinstance(body, dict) else {}
    code = stk.get("ResultCode") if isinstance(stk, dict) else None
    result_code = None if code is None else str(code)
    trouble = callback.outcome in ("held", "contradiction", "flagged", "error", "invalid")
    failed = result_code not in (None, "0")
    return TimelineEntry(
        at=callback.received_at,
        kind=EntryKind.callback,
        summary=f"Daraja callback: {stk.get('ResultDesc', 'unreadable body')}"
        + (f" ({callback.outcome})" if callback.outcome else " (not processed yet)")
        + (f", received {callback.resends + 1} times" if callback.resends else ""),
        actor="daraja",
        status=None,
        reason=outcome_for(result_code).reason if result_code is not None else None,
        result_code=result_code,
        failure=failed or trouble,
        guidance=_callback_guidance(result_code, callback) if failed or trouble else None,
        detail={
            "body": body,
            "outcome": callback.outcome,
            "verdict": callback.verdict,
            "resends": callback.resends,
            "note": callback.note,
            "source_ip": callback.source_ip,
            "processed_at": callback.processed_at.isoformat() if callback.processed_at else None,
        },
    )


def _callback_guidance(result_code: str | None, callback: CallbackInbox) -> GuidanceOut:
    if callback.outcome == "held" and callback.note:
        reason = "phone_mismatch" if "phone" in callback.note else "amount_mismatch"
        return _guide(reason)
    if result_code not in (None, "0"):
        return _guide(outcome_for(result_code).reason)
    return _guide("contradiction_ignored")


def masked_body(raw: bytes) -> Any:
    """A callback body as JSON, every phone number masked (the metadata's `PhoneNumber` item is
    a number, so it is masked by name; phones inside text by pattern)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return {"unreadable": mask_phone_numbers(raw.decode("utf-8", "replace")[:2000])}
    return _mask(body)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("Name") == "PhoneNumber" and "Value" in value:
            return {**value, "Value": mask_phone(str(value["Value"]))}
        return {key: _mask_field(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, str):
        return mask_phone_numbers(value)
    return value


def _mask_field(key: str, value: Any) -> Any:
    if "phone" in key.lower() and isinstance(value, str | int):
        return mask_phone(str(value))
    return _mask(value)


def _poll_entry(poll: PaymentPoll) -> TimelineEntry:
    outcome = outcome_for(poll.result_code) if poll.result_code is not None else None
    failed = outcome is not None and outcome.status in FAILED
    if poll.error:
        summary = f"Status query could not reach Daraja: {poll.error}"
    elif poll.result_code is None:
        summary = f"Status query: still processing ({poll.result_desc})"
    else:
        summary = f"Status query: {poll.result_desc} (code {poll.result_code})"
    return TimelineEntry(
        at=poll.at,
        kind=EntryKind.poll,
        summary=summary,
        actor=poll.actor,
        status=None,
        reason=outcome.reason if outcome else None,
        result_code=poll.result_code,
        failure=failed,
        guidance=_guide(outcome.reason) if failed and outcome else None,
        detail={"step": poll.step, "result_desc": poll.result_desc, "error": poll.error},
    )


def _delivery_entry(row: DeliveryRow) -> TimelineEntry:
    attempt, delivery = row.attempt, row.delivery
    ok = attempt.status_code is not None and 200 <= attempt.status_code < 300
    outcome = f"HTTP {attempt.status_code}" if attempt.status_code else (attempt.error or "error")
    return TimelineEntry(
        at=attempt.attempted_at,
        kind=EntryKind.delivery,
        summary=f"{row.event_type} (#{row.sequence}) delivery attempt {attempt.number}: {outcome}",
        actor="gateway-worker",
        status=None,
        reason=None if ok else "delivery_failed",
        result_code=None,
        failure=not ok,
        guidance=GuidanceOut(
            tell_customer="Your payment is recorded; its status will update shortly.",
            staff_can="The subscriber did not accept the event; it is retried automatically. "
            "Check the subscriber (session-api) is up if retries keep failing.",
        )
        if not ok
        else None,
        detail={
            "endpoint_url": delivery.endpoint_url,
            "delivery_status": delivery.status,
            "status_code": attempt.status_code,
            "error": attempt.error,
            "duration_ms": round(attempt.duration_ms, 1),
        },
    )


def _verdict_entry(row: VerdictRow) -> TimelineEntry:
    item = row.item
    settled = item.verdict in SELF_SETTLING
    advice = None if settled else guidance.for_verdict(item.verdict)
    return TimelineEntry(
        at=item.created_at,
        kind=EntryKind.reconciliation,
        summary=f"Reconciliation verdict: {item.verdict.replace('_', ' ')}",
        actor=row.run_requested_by,
        status=None,
        reason=item.verdict,
        result_code=None,
        failure=not settled,
        guidance=GuidanceOut(tell_customer=advice.tell_customer, staff_can=advice.staff_can)
        if advice
        else None,
        detail={
            "run_id": str(item.run_id),
            "source": item.source,
            "receipt": item.receipt,
            "amount": item.amount,
            "mpesa_amount": item.mpesa_amount,
        },
    )


def _exception_entry(exception: ReconciliationException) -> TimelineEntry:
    resolved = exception.resolved_at is not None
    return TimelineEntry(
        at=exception.resolved_at if resolved else exception.created_at,
        kind=EntryKind.staff_action if resolved else EntryKind.reconciliation,
        summary=(
            f"Exception resolved ({exception.action}): {exception.note or ''}".rstrip(": ")
            if resolved
            else f"Exception opened: {exception.verdict.replace('_', ' ')}"
        ),
        actor=exception.resolved_by if resolved else "reconciliation",
        status=None,
        reason=exception.verdict,
        result_code=None,
        failure=False,
        guidance=None,
        detail={"exception_id": str(exception.id), "status": exception.status},
    )


def check_window(*, window_from: datetime, window_to: datetime, max_days: int) -> None:
    for name, moment in (("from", window_from), ("to", window_to)):
        if moment.tzinfo is None:
            raise InvalidWindow(f"{name} must carry a UTC offset, e.g. 2026-12-01T00:00:00+03:00")
    if window_from >= window_to:
        raise InvalidWindow("from must be earlier than to")
    if window_to - window_from > timedelta(days=max_days):
        raise InvalidWindow(f"the window may span at most {max_days} days")


async def stats(
    session: AsyncSession,
    *,
    window_from: datetime,
    window_to: datetime,
    granularity: Granularity,
    max_days: int,
    refresh_overlap: timedelta,
) -> PaymentStats:
    """Counts, values, rates and times for payments created in `[window_from, window_to)`:
    whole hours from the hourly rollups (brought up to date first), the edges from the
    payments themselves; all of it summed in PostgreSQL."""
    check_window(window_from=window_from, window_to=window_to, max_days=max_days)
    repository = ConsoleRepository.from_session(session)
    await refresh_rollups(session, overlap=refresh_overlap)
    window = Window.of(window_from, window_to)
    rows = await repository.by_bucket(window=window, granularity=granularity.value)
    histogram = await repository.settling_histogram(window=window)
    totals: dict[str, list[int]] = {status.value: [0, 0] for status in PaymentStatus}
    per_bucket: dict[datetime, list[StatusTotals]] = {}
    for row in rows:
        totals[row.status][0] += row.count
        totals[row.status][1] += row.amount
        per_bucket.setdefault(row.bucket, []).append(
            StatusTotals(status=row.status, count=row.count, amount=row.amount)
        )
    reasons: dict[str, int] = {}
    late = 0
    for counted in await repository.by_reason(window=window):
        if counted.status in FAILED:
            key = counted.reason or counted.status
            reasons[key] = reasons.get(key, 0) + counted.count
        if counted.status == PaymentStatus.completed and counted.reason == LATE_SUCCESS:
            late += counted.count
    ended = sum(totals[status][0] for status in _ENDED)
    paid = sum(totals[status][0] for status in payment_state.PAID)
    return PaymentStats(
        window_from=window_from,
        window_to=window_to,
        granularity=granularity,
        total_count=sum(count for count, _ in totals.values()),
        total_amount=sum(amount for _, amount in totals.values()),
        by_status=[
            StatusTotals(status=status, count=count, amount=amount)
            for status, (count, amount) in totals.items()
        ],
        success_rate=round(paid / ended, 4) if ended else None,
        failure_reasons=[
            ReasonCount(reason=reason, count=count)
            for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        ],
        median_seconds_to_pay=percentile(histogram, 0.5),
        p95_seconds_to_pay=percentile(histogram, 0.95),
        late_successes=late,
        held=await repository.held(),
        open_exceptions=await repository.open_exceptions(),
        buckets=[
            Bucket(start=start.astimezone(_ZONE), by_status=sorted(cells, key=lambda c: c.status))
            for start, cells in sorted(per_bucket.items())
        ],
    )


async def refresh_rollups(session: AsyncSession, *, overlap: timedelta) -> int | None:
    """Bring the stats' hourly rollups up to date (the sweep does it every minute, so a stats
    request finds little to recount); the hours recounted, None if another refresh ran."""
    hours = await ConsoleRepository.from_session(session).refresh_rollups(overlap=overlap)
    if hours:
        log.info("console_stats_rollups_refreshed", hours=hours)
    return hours


def percentile(histogram: list[tuple[int, int]], fraction: float) -> float | None:
    """PostgreSQL's `percentile_cont` over the values a histogram of (value, count) stands for,
    in ascending values: interpolated between the two values around the position."""
    total = sum(count for _, count in histogram)
    if total == 0:
        return None

    def value_at(index: int) -> int:
        seen = 0
        for value, count in histogram:
            seen += count
            if index < seen:
                return value
        return histogram[-1][0]

    position = fraction * (total - 1)
    below = int(position)
    lower, upper = value_at(below), value_at(min(below + 1, total - 1))
    return float(lower + (upper - lower) * (position - below))

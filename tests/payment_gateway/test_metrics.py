"""Operators see payments by status, undelivered events, queue depth and settle latency."""

from __future__ import annotations

import re
from typing import Any

from payment_gateway import stats


def sample(metrics: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = (
        rf"^{re.escape(name)}{{{re.escape(label_text)}}} (\S+)$"
        if labels
        else rf"^{re.escape(name)} (\S+)$"
    )
    match = re.search(pattern, metrics, re.MULTILINE)
    assert match, f"{name} {labels} not exported"
    return float(match.group(1))


async def test_gauges_and_counters_are_exported(stack: Any) -> None:
    created = (await stack.pay(stack.phone("100"), 108)).json()
    await stack.receiver.wait_for(created["id"], "payment.completed")
    app = stack.app
    await stats.refresh_gauges(
        app.state.sessionmaker, app.state.redis, queue_name=stack.settings.queue_name
    )
    metrics = (await stack.client.get("/metrics")).text
    completed = await stack.scalar(
        "SELECT count(*) FROM gateway.payment WHERE status = 'completed'"
    )
    assert sample(metrics, "gateway_payments", status="completed") == completed
    assert sample(metrics, "gateway_payments", status="timeout") >= 0
    assert sample(metrics, "gateway_undelivered_events") >= 0
    assert sample(metrics, "gateway_queue_depth") >= 0
    assert sample(metrics, "gateway_audit_unchained_entries") >= 0
    assert sample(metrics, "gateway_audit_unsigned_age_seconds") >= 0
    assert (
        sample(
            metrics, "gateway_payment_transitions_total", source="callback", to_status="completed"
        )
        >= 1
    )
    assert sample(metrics, "gateway_callback_to_settle_seconds_count") >= 1
    assert sample(metrics, "gateway_webhook_attempts_total", result="delivered") >= 2

"""Prometheus metrics of the gateway's payments domain (process-wide, default registry).

Counters and histograms are updated where things happen; the gauges that describe the whole
system (payments by status, undelivered events, queue depth) are refreshed from PostgreSQL and
Redis by `refresh_gauges`, which the API runs periodically.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PAYMENTS = Gauge("gateway_payments", "Payments by status.", ["status"])
PAYMENTS_HELD = Gauge(
    "gateway_payments_held_for_review", "Payments held because a callback did not match."
)
UNDELIVERED_EVENTS = Gauge(
    "gateway_undelivered_events", "Event deliveries not yet acknowledged by their subscriber."
)
OLDEST_UNDELIVERED_AGE = Gauge(
    "gateway_oldest_undelivered_event_age_seconds", "Age of the oldest undelivered event."
)
QUEUE_DEPTH = Gauge("gateway_queue_depth", "Jobs waiting in the gateway's arq queue.")
AUDIT_UNCHAINED = Gauge(
    "gateway_audit_unchained_entries", "Audit entries recorded but not yet linked into the chain."
)
AUDIT_UNSIGNED_AGE = Gauge(
    "gateway_audit_unsigned_age_seconds",
    "How long the oldest chained audit entry no signed checkpoint covers yet has waited (0: all"
    " covered).",
)
TRANSITIONS = Counter(
    "gateway_payment_transitions_total",
    "Payment status changes by new status and source.",
    ["to_status", "source"],
)
LATE_SUCCESSES = Counter(
    "gateway_late_successes_total",
    "Payments completed on proof of payment after they had failed, been cancelled or timed out.",
)
CALLBACK_TO_SETTLE = Histogram(
    "gateway_callback_to_settle_seconds",
    "From a callback's arrival to the commit of the status change it caused.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
CALLBACKS = Counter(
    "gateway_callbacks_total",
    "STK callbacks by outcome (applied, duplicate, contradiction, held, invalid, ignored, "
    "flagged, error, unknown_token, refused_source).",
    ["outcome"],
)
CALLBACK_VERDICTS = Counter(
    "gateway_callback_verdicts_total",
    "Processed STK callbacks by how far they were believed (allow_listed, unchecked, confirmed, "
    "unverified, refuted, mismatch, duplicate_receipt).",
    ["verdict"],
)
WEBHOOK_ATTEMPTS = Counter(
    "gateway_webhook_attempts_total",
    "Event delivery attempts by result (delivered, failed, abandoned).",
    ["result"],
)
PUSH_RETRIES = Counter(
    "gateway_push_retries_total", "STK pushes left pending for a retry, by error kind.", ["kind"]
)

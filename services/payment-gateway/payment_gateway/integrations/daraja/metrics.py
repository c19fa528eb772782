"""Prometheus metrics of the Daraja client (process-wide, in the default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DARAJA_CALL_LATENCY = Histogram(
    "daraja_call_duration_seconds",
    "Daraja HTTP call latency by operation and outcome (ok, pending, or the error class).",
    ["operation", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30),
)
DARAJA_ERRORS = Counter(
    "daraja_errors_total",
    "Daraja call failures by operation and error code (or error class when Daraja sent none).",
    ["operation", "error_code"],
)
DARAJA_TOKEN_FETCHES = Counter(
    "daraja_token_fetches_total",
    "OAuth token requests made to Daraja by outcome.",
    ["outcome"],
)
DARAJA_TOKEN_INVALIDATIONS = Counter(
    "daraja_token_invalidations_total",
    "Cached tokens dropped because Daraja answered Invalid Access Token.",
)
DARAJA_RATE_LIMIT_WAIT = Histogram(
    "daraja_rate_limit_wait_seconds",
    "Time a call waited for its slot in the shared Daraja rate limiter.",
    ["operation"],
    buckets=(0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)

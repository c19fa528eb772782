"""The payment lifecycle (README "State machine"): which status may follow which.

Everything that changes a payment's status asks `check_transition` first; the database backs it
with a CHECK on the status and one open payment per phone.
"""

from __future__ import annotations

from payment_gateway.models import PaymentStatus
from payment_gateway.payment.exceptions import IllegalTransition

S = PaymentStatus

FINAL_FAILURES = frozenset({S.failed, S.cancelled, S.timeout})
# Money was received: completed, and every step of refunding it.
PAID = frozenset({S.completed, S.refund_pending, S.refunded, S.refund_failed})

# A callback can prove a push Daraja accepted although its answer never reached us, so a
# pending payment may settle directly (the service then records `sent` on the way).
ALLOWED: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.pending: frozenset({S.sent, S.failed}),
    S.sent: frozenset({S.completed, S.failed, S.cancelled, S.timeout}),
    # Proof of payment after a failure: the customer's money is never lost.
    S.failed: frozenset({S.completed}),
    S.cancelled: frozenset({S.completed}),
    S.timeout: frozenset({S.completed}),
    # Only staff leave `completed`, by refunding it through M-Pesa Reversal.
    S.completed: frozenset({S.refund_pending}),
    S.refund_pending: frozenset({S.refunded, S.refund_failed}),
    S.refunded: frozenset(),
    S.refund_failed: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    return PaymentStatus(target) in ALLOWED[PaymentStatus(current)]


def check_transition(current: str, target: str) -> None:
    if not can_transition(current, target):
        allowed = sorted(ALLOWED[PaymentStatus(current)])
        raise IllegalTransition(
            f"a {current} payment cannot become {target}; "
            f"from {current} it may only become {', '.join(allowed) or 'nothing (final)'}"
        )


def is_late_success(current: str, target: str) -> bool:
    return target == S.completed and PaymentStatus(current) in FINAL_FAILURES

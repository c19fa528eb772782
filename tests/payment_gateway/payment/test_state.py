"""The lifecycle guard: what may follow what."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.models import PaymentStatus
from payment_gateway.payment import state
from payment_gateway.payment.exceptions import IllegalTransition

S = PaymentStatus

ALLOWED = {
    (S.pending, S.sent),
    (S.pending, S.failed),
    (S.sent, S.completed),
    (S.sent, S.failed),
    (S.sent, S.cancelled),
    (S.sent, S.timeout),
    (S.failed, S.completed),
    (S.cancelled, S.completed),
    (S.timeout, S.completed),
    (S.completed, S.refund_pending),
    (S.refund_pending, S.refunded),
    (S.refund_pending, S.refund_failed),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_exactly_the_documented_transitions_are_allowed(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        state.check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"cannot become {target}"):
            state.check_transition(current, target)


@given(path=st.lists(st.sampled_from(list(S)), max_size=12))
def test_money_received_stays_received_until_refunded(path: list[S]) -> None:
    current = S.pending
    for target in path:
        if state.can_transition(current, target):
            if current in state.PAID:
                assert target in state.PAID
            if current == S.completed:
                assert target == S.refund_pending
            current = target


def test_late_success_is_proof_after_a_final_failure() -> None:
    assert all(state.is_late_success(s, S.completed) for s in (S.failed, S.cancelled, S.timeout))
    assert not state.is_late_success(S.sent, S.completed)
    assert not state.is_late_success(S.timeout, S.failed)

import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from session_api.integrations.gateway import GatewayPayment, GatewayPaymentStatus
from session_api.models import AttemptStatus, PayableType, PaymentAttempt
from session_api.payment import service as payment_service
from session_api.payment.service import PayableRef

FINAL_FAILURES = [
    GatewayPaymentStatus.failed,
    GatewayPaymentStatus.cancelled,
    GatewayPaymentStatus.timeout,
]


def attempt(status: AttemptStatus = AttemptStatus.processing) -> PaymentAttempt:
    return PaymentAttempt(
        id=uuid.uuid4(),
        status=status,
        version=1,
        gateway_status="sent",
        customer_message="Check your phone and enter your M-Pesa PIN",
    )


def payment(status: GatewayPaymentStatus, **fields: object) -> GatewayPayment:
    return GatewayPayment.model_validate(
        {"id": "pay_1", "status": status, "amount": 100, "phone": "254*****5678", **fields}
    )


class TestApplyPayment:
    @given(st.lists(st.sampled_from(list(GatewayPaymentStatus)), min_size=1, max_size=10))
    def test_paid_is_left_only_for_refunded_and_the_version_counts_changes(
        self, reports: list[GatewayPaymentStatus]
    ) -> None:
        subject = attempt()
        changes = 0
        was_paid = was_refunded = False
        for status in reports:
            changed = payment_service.apply_payment(
                subject, payment(status, receipt_number="SGH0000001")
            )
            changes += changed
            was_refunded = was_refunded or subject.status is AttemptStatus.refunded
            was_paid = was_paid or subject.status is AttemptStatus.paid
            if was_refunded:
                assert subject.status is AttemptStatus.refunded
            elif was_paid:
                assert subject.status is AttemptStatus.paid
        assert subject.version == 1 + changes

    @given(st.sampled_from(FINAL_FAILURES))
    def test_a_finished_attempt_never_reopens_but_proof_of_payment_wins(
        self, failure: GatewayPaymentStatus
    ) -> None:
        subject = attempt()
        payment_service.apply_payment(subject, payment(failure, reason="x"))

        reopened = payment_service.apply_payment(subject, payment(GatewayPaymentStatus.sent))
        late = payment_service.apply_payment(
            subject, payment(GatewayPaymentStatus.completed, receipt_number="SGHLATE001")
        )

        assert not reopened
        assert late
        assert subject.status is AttemptStatus.paid
        assert subject.receipt_number == "SGHLATE001"
        assert subject.reason is None

    def test_failure_keeps_the_gateways_reason_and_message(self) -> None:
        subject = attempt()

        payment_service.apply_payment(
            subject,
            payment(
                GatewayPaymentStatus.failed,
                reason="insufficient_funds",
                customer_message="Your M-Pesa balance is too low.",
                result_code=1,
            ),
            now=datetime(2026, 11, 22, tzinfo=UTC),
        )

        assert subject.status is AttemptStatus.failed
        assert subject.reason == "insufficient_funds"
        assert subject.customer_message == "Your M-Pesa balance is too low."
        assert subject.result_code == "1"
        assert subject.finished_at == datetime(2026, 11, 22, tzinfo=UTC)

    def test_a_success_shows_the_gateways_message(self) -> None:
        subject = attempt()

        payment_service.apply_payment(
            subject,
            payment(
                GatewayPaymentStatus.completed,
                receipt_number="SGH4TQ7XK2",
                customer_message="Payment received. M-Pesa receipt SGH4TQ7XK2.",
            ),
        )

        assert subject.receipt_number == "SGH4TQ7XK2"
        assert subject.customer_message == "Payment received. M-Pesa receipt SGH4TQ7XK2."
        assert subject.paid_at is not None


class TestIdempotencyKey:
    @given(
        st.sampled_from(list(PayableType)), st.uuids(), st.integers(min_value=1, max_value=10_000)
    )
    def test_is_a_function_of_payable_and_attempt_and_fits_the_gateway(
        self, payable_type: PayableType, payable_id: uuid.UUID, number: int
    ) -> None:
        key = payment_service.idempotency_key(payable_type, payable_id, number)

        assert key == payment_service.idempotency_key(payable_type, payable_id, number)
        assert key != payment_service.idempotency_key(payable_type, payable_id, number + 1)
        assert 1 <= len(key) <= 255 and key.isascii() and key.isprintable()


class TestPayableRef:
    @given(
        st.sampled_from(list(PayableType)),
        st.uuids(),
        st.uuids(),
        st.integers(min_value=1, max_value=1_000),
    )
    def test_round_trips_through_gateway_metadata(
        self, payable_type: PayableType, payable_id: uuid.UUID, user_id: uuid.UUID, number: int
    ) -> None:
        ref = PayableRef(type=payable_type, id=payable_id, user_id=user_id, attempt_number=number)

        assert PayableRef.from_metadata(ref.metadata()) == ref

    @given(st.dictionaries(st.text(max_size=15), st.text(max_size=15), max_size=5))
    def test_metadata_that_is_not_ours_names_no_payable(self, metadata: dict[str, str]) -> None:
        assert PayableRef.from_metadata(metadata) is None

"""Transaction Status and Pull Transactions against the Daraja simulator."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from payment_gateway.integrations.daraja import (
    DarajaClient,
    parse_stk_callback,
)
from tests.payment_gateway.integrations.daraja.simulator.harness import (
    Receiver,
    Simulator,
    push,
)


async def test_transaction_status_finds_a_payment(
    daraja: DarajaClient, simulator: Simulator, receiver: Receiver
) -> None:
    accepted = await push(daraja, receiver)
    [delivery] = await receiver.wait_for(1)
    receipt = parse_stk_callback(delivery.raw).receipt_number

    ack = await daraja.transaction_status(
        transaction_id=receipt,
        originator_conversation_id=None,
        result_url=receiver.url("/v1/results/status"),
        timeout_url=receiver.url("/v1/results/timeout"),
        initiator="testapi",
        security_credential="credential",
    )
    [status_result] = await receiver.wait_for(1, path="/v1/results/status")

    assert ack.response_code == "0" and ack.conversation_id
    result = status_result.body["Result"]
    assert result["ResultCode"] == 0
    parameters = {p["Key"]: p.get("Value") for p in result["ResultParameters"]["ResultParameter"]}
    assert parameters["ReceiptNo"] == receipt
    assert parameters["ConversationID"] == accepted.checkout_request_id


async def test_pull_transactions_lists_completed_payments(
    daraja: DarajaClient, receiver: Receiver
) -> None:
    await push(daraja, receiver, amount=40)
    [delivery] = await receiver.wait_for(1)
    receipt = parse_stk_callback(delivery.raw).receipt_number

    registration = await daraja.register_pull(
        nominated_number="0722000000", callback_url=receiver.url("/v1/pull")
    )
    again = await daraja.register_pull(
        nominated_number="0722000000", callback_url=receiver.url("/v1/pull")
    )
    now = datetime.now(UTC)
    page = await daraja.pull_transactions(
        start=now - timedelta(hours=1), end=now + timedelta(minutes=5)
    )

    assert (registration.response_status, again.response_status) == ("1000", "1001")
    assert page.response_code == "1000"
    assert [(t.transaction_id, t.amount) for t in page.transactions] == [(receipt, Decimal(40))]
    transaction = page.transactions[0]
    assert transaction.transaction_date is not None
    assert abs(transaction.transaction_date - now) < timedelta(minutes=1)

from daraja_simulator.testing import Receiver, Sim, SimFactory


async def paid(sim: Sim) -> str:
    checkout_request_id = await sim.pushed()
    await sim.settled(checkout_request_id)
    await sim.idle()
    return checkout_request_id


async def test_balance_item_can_be_dropped(make_sim: SimFactory, receiver: Receiver) -> None:
    async with make_sim(CALLBACK_INCLUDE_BALANCE=False) as sim:
        await paid(sim)

    items = receiver.received[0]["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    assert [i["Name"] for i in items] == [
        "Amount",
        "MpesaReceiptNumber",
        "TransactionDate",
        "PhoneNumber",
    ]


async def test_a_failed_delivery_is_logged_and_not_retried(sim: Sim, receiver: Receiver) -> None:
    receiver.receiver.status_code = 500

    checkout_request_id = await paid(sim)

    attempts = sim.state.callbacks.for_reference(checkout_request_id)
    assert [(a.attempt, a.status_code, a.delivered) for a in attempts] == [(1, 500, False)]
    assert len(receiver.received) == 1


async def test_retries_when_configured(make_sim: SimFactory, receiver: Receiver) -> None:
    receiver.receiver.status_code = 503
    async with make_sim(CALLBACK_RETRIES=2) as sim:
        checkout_request_id = await paid(sim)

    attempts = sim.state.callbacks.for_reference(checkout_request_id)
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 503), (2, 503), (3, 503)]
    assert len(receiver.received) == 3


async def test_retries_stop_at_the_first_success(make_sim: SimFactory, receiver: Receiver) -> None:
    async with make_sim(CALLBACK_RETRIES=2) as sim:
        checkout_request_id = await paid(sim)

    attempts = sim.state.callbacks.for_reference(checkout_request_id)
    assert [(a.attempt, a.delivered) for a in attempts] == [(1, True)]


async def test_an_unreachable_callback_url_is_logged_with_the_error(make_sim: SimFactory) -> None:
    async with make_sim() as sim:
        checkout_request_id = await sim.pushed(CallBackURL="http://127.0.0.1:9/callbacks/stk/x")
        await sim.settled(checkout_request_id)
        await sim.idle()

    [attempt] = sim.state.callbacks.for_reference(checkout_request_id)
    assert attempt.status_code is None
    assert attempt.error is not None and "ConnectError" in attempt.error
    assert not attempt.delivered


async def test_every_attempt_is_listed_by_the_control_api(sim: Sim, receiver: Receiver) -> None:
    checkout_request_id = await paid(sim)

    response = await sim.client.get(
        "/simulator/callbacks", params={"reference": checkout_request_id}
    )

    body = response.json()
    assert body["count"] == 1
    [attempt] = body["attempts"]
    assert attempt["kind"] == "stk"
    assert attempt["url"] == receiver.url()
    assert (attempt["delivery"], attempt["attempt"], attempt["status_code"]) == (1, 1, 200)
    assert attempt["delivered"] is True
    assert attempt["body"] == receiver.received[0]
    assert attempt["error"] is None


async def test_a_json_post_with_no_signature_or_auth_header(sim: Sim, receiver: Receiver) -> None:
    await paid(sim)

    [received] = receiver.receiver.under(receiver.prefix)
    assert received.headers["content-type"] == "application/json"
    assert not {h for h in received.headers if "auth" in h or "signature" in h}

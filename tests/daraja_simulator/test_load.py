"""A burst of concurrent pushes: every one is answered and every callback delivered (the full
200-push figures come from `python -m bench simulator_load`)."""

import asyncio

from daraja_simulator.testing import Receiver, Sim

PUSHES = 100


async def test_concurrent_pushes_are_all_answered_and_called_back(
    sim: Sim, receiver: Receiver
) -> None:
    token = await sim.token()
    phones = [f"25471{n:04d}149" for n in range(PUSHES)]

    answers = await asyncio.gather(
        *(
            sim.push(token=token, PhoneNumber=p, PartyA=p, Amount=str(n + 1))
            for n, p in enumerate(phones)
        )
    )
    await receiver.wait_for(PUSHES)
    await sim.idle()

    assert [a.status_code for a in answers] == [200] * PUSHES
    checkout_ids = {a.json()["CheckoutRequestID"] for a in answers}
    assert len(checkout_ids) == PUSHES
    called_back = {b["Body"]["stkCallback"]["CheckoutRequestID"] for b in receiver.received}
    assert called_back == checkout_ids
    assert all(a.delivered for a in sim.state.callbacks.attempts)
    assert len(sim.state.ledger) == PUSHES
    assert sim.state.ledger.balance("174379") == sum(range(1, PUSHES + 1))

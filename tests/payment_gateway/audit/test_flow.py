"""A payment paid through the simulator leaves its whole life on the gateway's audit trail:
created over the API, sent, completed on Daraja's callback; the chain verifies."""

from __future__ import annotations

from typing import Any

from tests.payment_gateway.stack import AUTH, GatewayStack, StackFactory


async def test_a_paid_payment_is_on_the_audit_trail_from_creation_to_completion(
    make_stack: StackFactory,
) -> None:
    # No poll before the callback, so the completion comes from the callback on any machine.
    async with make_stack(gateway={"POLL_SCHEDULE_S": [3000]}) as stack:
        await _check_the_trail(stack)


async def _check_the_trail(stack: GatewayStack) -> None:
    phone = stack.phone("100")
    created = (await stack.pay(phone, 250)).json()
    await stack.wait_status(created["id"], "completed")

    async def recorded() -> list[dict[str, Any]] | None:
        response = await stack.client.get(
            "/v1/audit", params={"subject": f"payment:{created['id']}"}, headers=AUTH
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) == 3 else None

    items = await stack.until(recorded, what="three audit entries for the payment")
    oldest_first = list(reversed(items))
    assert [(e["action"], e["details"]["to"]) for e in oldest_first] == [
        ("payment.created", "pending"),
        ("payment.status_changed", "sent"),
        ("payment.status_changed", "completed"),
    ]
    assert oldest_first[0]["details"]["phone"] == f"254*****{phone[-4:]}"
    assert oldest_first[0]["details"]["amount"] == 250
    assert oldest_first[2]["details"]["source"] == "callback"
    assert oldest_first[2]["details"]["from"] == "sent"

"""A callback is confirmed in its payment's own Daraja environment: after an admin switched the
platform to production, a payment made in the sandbox is still confirmed by the sandbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from payment_gateway.credentials.envelope import Keyring
from payment_gateway.credentials.stored import StoredCredentials, seal_row
from payment_gateway.models import DarajaCredential, ShortcodeType
from shared import db
from tests.payment_gateway.callback.forgery import answer_prompt, waiting_customer
from tests.payment_gateway.stack import AUTH, GatewayStack, StackFactory

OWN_KEY = "k1:" + "b3duLWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE="


async def go_live(stack: GatewayStack) -> None:
    """Production credentials as a passed connection test leaves them, then the switch."""
    row = DarajaCredential(id=uuid.uuid4(), updated_by="user:admin")
    seal_row(
        row,
        StoredCredentials(
            environment="production",
            shortcode="600200",
            shortcode_type=ShortcodeType.till,
            callback_base_url="https://pay.example.co.ke",
            consumer_key="live-consumer-key-1",
            consumer_secret="live-consumer-secret-1",
            passkey="d" * 64,
            initiator_name="live-initiator",
            security_credential="bGl2ZS1zZWN1cml0eS1jcmVkZW50aWFs",
        ),
        keyring=Keyring.of(stack.settings.encryption_keys),
    )
    row.tested_at, row.test_passed = datetime.now(UTC), True
    async with db.create_sessionmaker(stack.engine)() as session, session.begin():
        session.add(row)
    switched = await stack.client.post(
        "/v1/settings/environment",
        json={"environment": "production", "actor": "user:admin"},
        headers=AUTH,
    )
    assert switched.status_code == 200, switched.text


async def test_a_sandbox_payment_is_confirmed_by_the_sandbox_after_going_live(
    make_stack: StackFactory,
) -> None:
    gateway = {
        "ENCRYPTION_KEYS": OWN_KEY,
        # Production Daraja cannot be reached from a test: a refused loopback port.
        "DARAJA_PRODUCTION_BASE_URL": "https://127.0.0.1:9",
        "CREDENTIALS_CACHE_TTL_S": 0.01,
        "POLL_SCHEDULE_S": [3000],  # no poll: only the callback can settle it
    }
    async with make_stack(gateway=gateway) as stack:
        created, _, _ = await waiting_customer(stack, 300)
        assert created["environment"] == "sandbox"
        await go_live(stack)

        await answer_prompt(stack, created["checkout_request_id"], "approve")

        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        assert completed[0]["data"]["environment"] == "sandbox"
        [stored] = await stack.callbacks(created["id"])
        assert stored["verdict"] == "confirmed"

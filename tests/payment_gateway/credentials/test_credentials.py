"""Daraja credentials managed through `/v1/settings`: proven by the simulator before they are
stored, stored encrypted (the table read directly), used for new payments, tested on demand,
failing closed when the key or the bytes are wrong; and the production readiness checklist."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from payment_gateway.config import SANDBOX_PASSKEY
from payment_gateway.credentials.envelope import Keyring
from payment_gateway.credentials.stored import StoredCredentials, seal_row
from payment_gateway.models import DarajaCredential, ShortcodeType
from shared import db
from tests.payment_gateway.stack import AUTH, GatewayStack, StackFactory

SECOND_APP = {"consumer_key": "second-app-key-4821", "consumer_secret": "second-app-secret-7390"}
SECOND_PASSKEY = "c0ffee" * 8
# The simulator knows a second app and a second paybill besides its defaults.
SIMULATOR: dict[str, Any] = {
    "APPS": [
        {"consumer_key": "test-consumer-key", "consumer_secret": "test-consumer-secret"},
        SECOND_APP,
    ],
    "SHORTCODES": [
        {"shortcode": "174379", "passkey": SANDBOX_PASSKEY},
        {"shortcode": "600100", "passkey": SECOND_PASSKEY},
    ],
}
SECRETS = ("consumer_key", "consumer_secret", "passkey", "initiator_name", "security_credential")


def credentials(stack: GatewayStack, **changes: str) -> dict[str, str]:
    return {
        **SECOND_APP,
        "shortcode": "600100",
        "shortcode_type": "paybill",
        "passkey": SECOND_PASSKEY,
        "initiator_name": "apiop-initiator-31",
        "security_credential": "c2VjdXJpdHktY3JlZGVudGlhbC1ibG9iLTEyMzQ1Njc4",
        "callback_base_url": stack.gateway_url,
        "actor": "admin-7",
        **changes,
    }


async def put(stack: GatewayStack, environment: str, body: dict[str, str]) -> Any:
    return await stack.client.put(f"/v1/settings/daraja/{environment}", json=body, headers=AUTH)


async def stored_bytes(stack: GatewayStack) -> dict[str, bytes]:
    async with stack.engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT data_key, consumer_key, consumer_secret, passkey, initiator_name, "
                    "security_credential FROM gateway.daraja_credential "
                    "WHERE environment = 'sandbox'"
                )
            )
        ).one()
    return {name: bytes(value) for name, value in row._mapping.items()}


@pytest.fixture
async def stack(make_stack: StackFactory) -> Any:
    async with make_stack(simulator=SIMULATOR, worker=False) as running:
        yield running


async def test_stored_credentials_are_encrypted_and_shown_masked(stack: GatewayStack) -> None:
    body = credentials(stack)

    response = await put(stack, "sandbox", body)

    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["source"] == "stored"
    assert saved["consumer_secret"] == "****7390"
    assert saved["passkey"] == "****" + SECOND_PASSKEY[-4:]
    stored = await stored_bytes(stack)
    for column in SECRETS:
        plaintext = body[column].encode()
        assert plaintext not in stored[column], column
        assert plaintext[-8:] not in b"".join(stored.values()), column
    listed = (await stack.client.get("/v1/settings/daraja", headers=AUTH)).json()
    shown = repr(listed)
    assert all(body[column] not in shown for column in SECRETS)
    [sandbox] = [e for e in listed["environments"] if e["environment"] == "sandbox"]
    assert sandbox["consumer_key"] == "****4821"
    assert sandbox["shortcode"] == "600100"


async def test_new_payments_use_the_stored_credentials(stack: GatewayStack) -> None:
    assert (await put(stack, "sandbox", credentials(stack))).status_code == 200

    response = await stack.pay(stack.phone())

    assert response.status_code == 201, response.text
    [push] = await stack.sim_requests("stk_push")
    assert push["body"]["BusinessShortCode"] == "600100"
    assert response.json()["environment"] == "sandbox"


async def test_credentials_daraja_refuses_are_not_saved(stack: GatewayStack) -> None:
    response = await put(stack, "sandbox", credentials(stack, consumer_secret="not-the-secret"))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "CredentialsRefused"
    count = await stack.scalar("SELECT count(*) FROM gateway.daraja_credential")
    assert count == 0


async def test_production_needs_an_https_callback_base_url(stack: GatewayStack) -> None:
    response = await put(stack, "production", credentials(stack))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "InsecureCallbackUrl"


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("UPDATE gateway.daraja_credential SET key_id = 'retired'", "UnknownEncryptionKey"),
        (
            "UPDATE gateway.daraja_credential SET passkey = "
            "overlay(passkey placing '\\x00'::bytea from 20 for 1)",
            "CredentialUnreadable",
        ),
        (
            "UPDATE gateway.daraja_credential SET consumer_key = consumer_secret",
            "CredentialUnreadable",
        ),
    ],
    ids=["unknown_key_id", "tampered_byte", "swapped_columns"],
)
async def test_wrong_key_or_changed_bytes_fail_closed(
    stack: GatewayStack, sql: str, error: str
) -> None:
    assert (await put(stack, "sandbox", credentials(stack))).status_code == 200
    await stack.execute(sql)

    listed = await stack.client.get("/v1/settings/daraja", headers=AUTH)
    # The payment is refused too: never made with the settings' bootstrap credentials instead.
    payment = await stack.pay(stack.phone())

    assert listed.status_code == 503, listed.text
    assert listed.json()["error"] == error
    assert payment.status_code == 503, payment.text
    assert payment.json()["error"] == error
    assert await stack.sim_requests("stk_push") == []


async def test_the_connection_test_passes_with_good_credentials(stack: GatewayStack) -> None:
    assert (await put(stack, "sandbox", credentials(stack))).status_code == 200

    response = await stack.client.post(
        "/v1/settings/daraja/sandbox/test", json={"actor": "admin-7"}, headers=AUTH
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is True
    assert [(s["name"], s["ok"]) for s in result["steps"]] == [("token", True), ("stk_query", True)]
    assert all(isinstance(s["latency_ms"], int) for s in result["steps"])
    listed = (await stack.client.get("/v1/settings/daraja", headers=AUTH)).json()
    [sandbox] = [e for e in listed["environments"] if e["environment"] == "sandbox"]
    assert sandbox["test_passed"] is True


async def test_the_connection_test_fails_on_a_wrong_passkey(stack: GatewayStack) -> None:
    # The token proves only the key and secret: the passkey is first checked by the query.
    saved = await put(stack, "sandbox", credentials(stack, passkey="f" * 64))
    assert saved.status_code == 200, saved.text

    result = (
        await stack.client.post(
            "/v1/settings/daraja/sandbox/test", json={"actor": "admin-7"}, headers=AUTH
        )
    ).json()

    assert result["ok"] is False
    assert [(s["name"], s["ok"]) for s in result["steps"]] == [
        ("token", True),
        ("stk_query", False),
    ]
    assert "Wrong credentials" in result["steps"][1]["detail"]


async def test_the_connection_test_fails_on_a_wrong_secret(make_stack: StackFactory) -> None:
    async with make_stack(
        gateway={"DARAJA_CONSUMER_SECRET": "not-the-secret"}, worker=False
    ) as stack:
        response = await stack.client.post(
            "/v1/settings/daraja/sandbox/test", json={"actor": "admin-7"}, headers=AUTH
        )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is False
    token, query = result["steps"]
    assert (token["name"], token["ok"]) == ("token", False)
    assert (query["ok"], query["latency_ms"], query["detail"]) == (
        False,
        None,
        "not tried: no token",
    )


async def test_production_is_refused_while_the_checklist_is_red(stack: GatewayStack) -> None:
    readiness = (await stack.client.get("/v1/settings/readiness", headers=AUTH)).json()
    switched = await stack.client.post(
        "/v1/settings/environment",
        json={"environment": "production", "actor": "admin-7"},
        headers=AUTH,
    )

    assert readiness["ready"] is False
    failing = {item["name"] for item in readiness["items"] if not item["ok"]}
    assert {"production_credentials_stored", "encryption_key_not_development"} <= failing
    assert switched.status_code == 409, switched.text
    assert switched.json()["error"] == "ReadinessChecklistRed"
    assert "production_credentials_stored" in switched.json()["detail"]
    environment = (await stack.client.get("/v1/settings/environment", headers=AUTH)).json()
    assert environment["environment"] == "sandbox"
    assert environment["shortcode"] == "174379"


async def test_switching_to_sandbox_is_stored(stack: GatewayStack) -> None:
    response = await stack.client.post(
        "/v1/settings/environment",
        json={"environment": "sandbox", "actor": "admin-7"},
        headers=AUTH,
    )

    assert response.status_code == 200, response.text
    assert response.json()["updated_by"] == "admin-7"
    stored = await stack.scalar("SELECT daraja_environment FROM gateway.gateway_setting")
    assert stored == "sandbox"


async def test_settings_changes_are_audited_without_their_values(stack: GatewayStack) -> None:
    body = credentials(stack)
    assert (await put(stack, "sandbox", body)).status_code == 200
    tested = await stack.client.post(
        "/v1/settings/daraja/sandbox/test", json={"actor": "admin:7"}, headers=AUTH
    )
    switched = await stack.client.post(
        "/v1/settings/environment",
        json={"environment": "sandbox", "actor": "admin:7"},
        headers=AUTH,
    )

    assert (tested.status_code, switched.status_code) == (200, 200)
    listed = await stack.client.get("/v1/audit", params={"action": "settings.*"}, headers=AUTH)
    entries = list(reversed(listed.json()["items"]))
    assert [(e["action"], e["actor"], e["subject"]) for e in entries] == [
        ("settings.daraja_credentials_saved", "admin-7", "daraja_credentials:sandbox"),
        ("settings.daraja_credentials_tested", "admin:7", "daraja_credentials:sandbox"),
        ("settings.environment_switched", "admin:7", "daraja_environment"),
    ]
    assert entries[0]["details"]["environment"] == "sandbox"
    assert entries[1]["details"]["ok"] is True
    assert entries[2]["details"] == {"from": "sandbox", "to": "sandbox"}
    written = json.dumps(entries)
    assert not [name for name in SECRETS if body[name] in written]


OWN_KEY = "k1:" + "b3duLWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE="


async def test_production_is_switched_to_once_the_checklist_is_green(
    make_stack: StackFactory,
) -> None:
    # Production Daraja is not reachable from a test: its credentials are stored as a passed
    # test would leave them, and its host answers nothing (a refused loopback port).
    gateway = {"ENCRYPTION_KEYS": OWN_KEY, "DARAJA_PRODUCTION_BASE_URL": "https://127.0.0.1:9"}
    async with make_stack(gateway=gateway, worker=False) as stack:
        row = DarajaCredential(id=uuid.uuid4(), updated_by="admin-7")
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

        readiness = (await stack.client.get("/v1/settings/readiness", headers=AUTH)).json()
        switched = await stack.client.post(
            "/v1/settings/environment",
            json={"environment": "production", "actor": "admin-7"},
            headers=AUTH,
        )
        listed = (await stack.client.get("/v1/settings/daraja", headers=AUTH)).json()

    assert readiness["ready"] is True, readiness
    assert switched.status_code == 200, switched.text
    assert switched.json()["environment"] == "production"
    assert (switched.json()["shortcode"], switched.json()["shortcode_type"]) == ("600200", "till")
    assert listed["active_environment"] == "production"


async def test_payments_can_be_listed_by_environment(stack: GatewayStack) -> None:
    sandbox = (await stack.pay(stack.phone())).json()
    other = (await stack.pay(stack.phone())).json()
    # As if made before a switch back from production.
    async with stack.engine.begin() as connection:
        await connection.execute(
            text("UPDATE gateway.payment SET environment = 'production' WHERE id = :id"),
            {"id": other["id"]},
        )

    listed = {
        environment: [
            p["id"]
            for p in (
                await stack.client.get(
                    "/v1/payments", params={"environment": environment}, headers=AUTH
                )
            ).json()["items"]
        ]
        for environment in ("sandbox", "production")
    }

    assert listed == {"sandbox": [sandbox["id"]], "production": [other["id"]]}

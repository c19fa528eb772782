"""`/v1/admin/settings` through the real gateway and the Daraja simulator: credentials proven
before they are saved and shown masked, the connection test with good and bad credentials, the
production switch refused (a red checklist, a wrong password), and sandbox payments never
crediting anything while the platform is in production."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from payment_gateway.config import Settings as GatewaySettings
from payment_gateway.credentials.envelope import Keyring
from payment_gateway.credentials.stored import StoredCredentials, seal_row
from payment_gateway.models import DarajaCredential, ShortcodeType
from session_api.models import GatewayEvent, PlatformSetting, UserRole
from tests.session_api.fixtures import PASSWORD, Account
from tests.session_api.flows.flow import Flow, FlowFactory, phone, until

GOOD = {
    "consumer_key": "test-consumer-key",
    "consumer_secret": "test-consumer-secret",
    "shortcode": "174379",
    "shortcode_type": "paybill",
    "passkey": "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
    "initiator_name": "testapiuser",
    "security_credential": "c2VjdXJpdHktY3JlZGVudGlhbC1ibG9iLTk4NzY1",
}
SECRETS = ("consumer_key", "consumer_secret", "passkey", "initiator_name", "security_credential")


def credentials(flow: Flow, **changes: str) -> dict[str, str]:
    return {**GOOD, "callback_base_url": str(flow.gateway.base_url).rstrip("/"), **changes}


async def put_sandbox(flow: Flow, admin: Account, **changes: str) -> Any:
    return await flow.api.put(
        "/v1/admin/settings/daraja/sandbox",
        json=credentials(flow, **changes),
        headers=admin.headers,
    )


async def test_good_credentials_are_saved_masked_and_pass_the_test(flow: Flow) -> None:
    admin = await flow.account(UserRole.admin)

    saved = await put_sandbox(flow, admin)
    tested = await flow.api.post("/v1/admin/settings/daraja/sandbox/test", headers=admin.headers)
    listed = await flow.api.get("/v1/admin/settings/daraja", headers=admin.headers)

    assert saved.status_code == 200, saved.text
    assert saved.json()["consumer_secret"] == "****cret"
    assert tested.status_code == 200, tested.text
    result = tested.json()
    assert result["ok"] is True
    assert [(s["name"], s["ok"]) for s in result["steps"]] == [("token", True), ("stk_query", True)]
    assert all(s["latency_ms"] >= 0 for s in result["steps"])
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert GOOD["consumer_secret"] not in listed.text
    assert GOOD["passkey"] not in listed.text
    [sandbox] = [e for e in body["environments"] if e["environment"] == "sandbox"]
    assert (sandbox["source"], sandbox["test_passed"]) == ("stored", True)
    assert sandbox["updated_by"] == f"user:{admin.id}"
    audited = await audit_entries(flow, admin, "settings.*")
    assert [(e["action"], e["actor"], e["subject"]) for e in audited] == [
        ("settings.daraja_credentials_saved", f"user:{admin.id}", "daraja_credentials:sandbox"),
        ("settings.daraja_credentials_tested", f"user:{admin.id}", "daraja_credentials:sandbox"),
    ]
    assert audited[0]["details"] == {"environment": "sandbox"}
    assert audited[1]["details"] == {"environment": "sandbox", "ok": True}
    # The gateway's trail has them too, by the admin's id, and neither holds a value.
    async with flow.session_api.state.sessionmaker() as session:
        gateway_trail = (
            await session.execute(
                text(
                    "SELECT action, actor, details::text AS details FROM gateway.audit_entry "
                    "WHERE action LIKE 'settings.%' ORDER BY id"
                )
            )
        ).all()
    assert [(row.action, row.actor) for row in gateway_trail] == [
        ("settings.daraja_credentials_saved", f"user:{admin.id}"),
        ("settings.daraja_credentials_tested", f"user:{admin.id}"),
    ]
    written = str(audited) + str(gateway_trail)
    assert not [name for name in SECRETS if GOOD[name] in written]


async def audit_entries(flow: Flow, admin: Account, action: str) -> list[dict[str, Any]]:
    """session-api's audit entries of `action` (a `prefix.*` too), oldest first."""
    response = await flow.api.get(
        "/v1/admin/audit", params={"action": action}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


async def test_credentials_daraja_refuses_are_not_saved(flow: Flow) -> None:
    admin = await flow.account(UserRole.admin)

    refused = await put_sandbox(flow, admin, consumer_secret="not-the-secret")
    listed = (await flow.api.get("/v1/admin/settings/daraja", headers=admin.headers)).json()

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "CredentialsRefused"
    [sandbox] = [e for e in listed["environments"] if e["environment"] == "sandbox"]
    assert sandbox["source"] == "settings"


async def test_the_connection_test_fails_on_a_wrong_passkey(flow: Flow) -> None:
    admin = await flow.account(UserRole.admin)
    assert (await put_sandbox(flow, admin, passkey="0" * 64)).status_code == 200

    tested = await flow.api.post("/v1/admin/settings/daraja/sandbox/test", headers=admin.headers)

    result = tested.json()
    assert result["ok"] is False
    token, query = result["steps"]
    assert (token["ok"], query["ok"]) == (True, False)
    assert "Wrong credentials" in query["detail"]


async def test_production_is_refused_while_the_checklist_is_red(flow: Flow) -> None:
    admin = await flow.account(UserRole.admin)

    readiness = await flow.api.get("/v1/admin/settings/readiness", headers=admin.headers)
    switched = await flow.api.post(
        "/v1/admin/settings/environment",
        json={"environment": "production", "password": PASSWORD},
        headers=admin.headers,
    )
    config = (await flow.api.get("/v1/config")).json()

    assert readiness.status_code == 200
    assert readiness.json()["ready"] is False
    failing = {item["name"] for item in readiness.json()["items"] if not item["ok"]}
    assert {"production_credentials_stored", "session_api_security_headers"} <= failing
    assert switched.status_code == 409, switched.text
    assert switched.json()["error"] == "ReadinessChecklistRed"
    # session-api's own item is checked first, before the gateway is asked.
    assert "session_api_security_headers" in switched.json()["detail"]
    assert (config["environment"], config["test_mode"]) == ("sandbox", True)


async def test_production_is_refused_while_the_gateways_items_are_red(
    make_flow: FlowFactory,
) -> None:
    async with make_flow(session_api={"SECURITY_HEADERS": True}) as flow:
        admin = await flow.account(UserRole.admin)

        switched = await flow.api.post(
            "/v1/admin/settings/environment",
            json={"environment": "production", "password": PASSWORD},
            headers=admin.headers,
        )
        gateway = await flow.gateway.get(
            "/v1/settings/environment", headers={"Authorization": "Bearer test-service-key"}
        )

    assert switched.status_code == 409, switched.text
    assert switched.json()["error"] == "ReadinessChecklistRed"
    assert "production_credentials_stored" in switched.json()["detail"]
    assert "encryption_key_not_development" in switched.json()["detail"]
    assert gateway.json()["environment"] == "sandbox"


async def test_the_switch_is_refused_with_a_wrong_password(flow: Flow) -> None:
    admin = await flow.account(UserRole.admin)

    switched = await flow.api.post(
        "/v1/admin/settings/environment",
        json={"environment": "sandbox", "password": "not my password"},
        headers=admin.headers,
    )
    gateway = await flow.gateway.get(
        "/v1/settings/environment", headers={"Authorization": "Bearer test-service-key"}
    )

    assert switched.status_code == 403, switched.text
    assert switched.json()["error"] == "PasswordMismatch"
    # The gateway was never asked: nothing was switched or stored.
    assert gateway.json()["updated_by"] is None
    [refused] = await audit_entries(flow, admin, "settings.*")
    assert (refused["action"], refused["actor"]) == (
        "settings.environment_switch_refused",
        f"user:{admin.id}",
    )
    assert refused["details"] == {"to": "sandbox", "reason": "password"}


async def test_the_switch_with_the_right_password_is_kept_by_both_services(flow: Flow) -> None:
    admin = await flow.account(UserRole.admin)

    switched = await flow.api.post(
        "/v1/admin/settings/environment",
        json={"environment": "sandbox", "password": PASSWORD},
        headers=admin.headers,
    )

    assert switched.status_code == 200, switched.text
    assert switched.json()["updated_by"] == f"user:{admin.id}"
    async with flow.session_api.state.sessionmaker() as session:
        kept = await session.get(PlatformSetting, 1)
    assert kept is not None
    assert (kept.payment_environment, kept.paybill_number) == ("sandbox", "174379")
    [audited] = await audit_entries(flow, admin, "settings.environment_switched")
    assert audited["actor"] == f"user:{admin.id}"
    assert audited["details"] == {"from": "sandbox", "to": "sandbox"}


async def test_staff_cannot_see_or_change_settings(flow: Flow) -> None:
    staff = await flow.account(UserRole.staff)

    listed = await flow.api.get("/v1/admin/settings/daraja", headers=staff.headers)
    saved = await put_sandbox(flow, staff)

    assert (listed.status_code, saved.status_code) == (403, 403)
    assert listed.json()["error"] == "RoleRequired"


async def test_a_sandbox_payment_never_credits_a_wallet_in_production(
    make_flow: FlowFactory,
) -> None:
    async with make_flow() as flow:
        client = await flow.account()
        # The platform went live (what a switch to production leaves in session-api) while the
        # gateway still reports this payment as made in the sandbox.
        async with flow.session_api.state.sessionmaker() as session, session.begin():
            session.add(
                PlatformSetting(id=1, payment_environment="production", updated_by="admin:1")
            )

        created = await flow.api.post(
            "/v1/wallet/deposits", json={"amount": 500, "phone": phone()}, headers=client.headers
        )
        assert created.status_code == 201, created.text

        async def completed() -> list[dict[str, Any]] | None:
            found = [e for e in flow.relay.forwarded if e["type"] == "payment.completed"]
            return found or None

        [event] = await until(completed, within=15, what="the sandbox payment to complete")
        wallet = (await flow.api.get("/v1/wallet", headers=client.headers)).json()
        attempt = await flow.attempt(created.json()["attempt"]["id"], client)
        async with flow.session_api.state.sessionmaker() as session:
            outcomes = (
                await session.scalars(
                    select(GatewayEvent.outcome).where(
                        GatewayEvent.gateway_payment_id == event["data"]["id"]
                    )
                )
            ).all()

    assert event["data"]["environment"] == "sandbox"
    assert wallet["balance"] == 0
    assert attempt["status"] == "processing"
    assert "sandbox_refused" in outcomes
    assert "applied" not in outcomes


async def test_a_green_switch_to_production_reaches_the_public_config(
    make_flow: FlowFactory,
) -> None:
    # Production Daraja is not reachable from a test: its credentials are stored in the
    # gateway as a passed connection test leaves them, under a key of the deployment's own.
    own_key = "k1:" + "b3duLWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE="
    gateway = {"ENCRYPTION_KEYS": own_key, "DARAJA_PRODUCTION_BASE_URL": "https://127.0.0.1:9"}
    async with make_flow(gateway=gateway, session_api={"SECURITY_HEADERS": True}) as flow:
        admin = await flow.account(UserRole.admin)
        row = DarajaCredential(id=uuid.uuid4(), updated_by="admin:seed")
        seal_row(
            row,
            StoredCredentials(
                environment="production",
                shortcode="600200",
                shortcode_type=ShortcodeType.paybill,
                callback_base_url="https://pay.example.co.ke",
                consumer_key="live-consumer-key-1",
                consumer_secret="live-consumer-secret-1",
                passkey="d" * 64,
                initiator_name="live-initiator",
                security_credential="bGl2ZS1zZWN1cml0eS1jcmVkZW50aWFs",
            ),
            keyring=Keyring.of(GatewaySettings(ENCRYPTION_KEYS=own_key).encryption_keys),
        )
        row.tested_at, row.test_passed = datetime.now(UTC), True
        async with flow.session_api.state.sessionmaker() as session, session.begin():
            session.add(row)

        readiness = (
            await flow.api.get("/v1/admin/settings/readiness", headers=admin.headers)
        ).json()
        switched = await flow.api.post(
            "/v1/admin/settings/environment",
            json={"environment": "production", "password": PASSWORD},
            headers=admin.headers,
        )
        config = (await flow.api.get("/v1/config")).json()

    assert readiness["ready"] is True, readiness
    assert "session_api_security_headers" in {item["name"] for item in readiness["items"]}
    assert switched.status_code == 200, switched.text
    assert switched.json()["environment"] == "production"
    assert (config["environment"], config["paybill_number"]) == ("production", "600200")
    # A testing deployment is never live, whatever its payments' environment.
    assert config["test_mode"] is True

"""Settings fail fast on what production must not run with."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from payment_gateway.config import DEV_ENCRYPTION_KEY, Settings, WebhookEndpoint
from shared.webhook_signing import DEV_WEBHOOK_SECRET

PRODUCTION_READY: dict[str, Any] = {
    "ENVIRONMENT": "production",
    "API_KEYS": ["k8s-secret-9f2c71e0"],
    "DARAJA_CONSUMER_KEY": "live-key-7d1",
    "DARAJA_CONSUMER_SECRET": "live-secret-1c9",
    "ERASURE_HASH_KEY": "hmac-key-from-the-vault-5e1",
    "DARAJA_PASSKEY": "b" * 64,
    "DARAJA_ENVIRONMENT": "production",
    "PUBLIC_BASE_URL": "https://pay.example.co.ke",
    "AUDIT_SIGNING_KEY": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
    "ENCRYPTION_KEYS": "k2026:" + "a2V5LWVuY3J5cHRpb24ta2V5LWZvci1wcm9kdWN0aW8=",
    "WEBHOOK_ENDPOINTS": [
        {
            "url": "https://api.internal/internal/payment-events",
            "secret": "whsec_" + "c2VjcmV0LWtleS1mb3ItcHJvZHVjdGlvbi0xMjM0",
        }
    ],
}


def test_development_defaults_run_against_the_simulator() -> None:
    settings = Settings(ENVIRONMENT="development")
    assert settings.DARAJA_BASE_URL == "http://127.0.0.1:8002"
    assert settings.API_KEYS[0].get_secret_value() == "dev-service-key"
    assert settings.WEBHOOK_ENDPOINTS[0].url == "http://127.0.0.1:8000/internal/payment-events"
    assert settings.queue_name == "arq:gateway"


def test_production_accepts_real_values() -> None:
    assert Settings(**PRODUCTION_READY).DARAJA_ENVIRONMENT == "production"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"API_KEYS": ["dev-service-key"]}, "GATEWAY_API_KEYS"),
        ({"DARAJA_CONSUMER_SECRET": "test-consumer-secret"}, "GATEWAY_DARAJA_CONSUMER_SECRET"),
        (
            {"DARAJA_PASSKEY": "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"},
            "sandbox passkey",
        ),
        ({"PUBLIC_BASE_URL": "http://pay.example.co.ke"}, "https"),
        (
            {"WEBHOOK_ENDPOINTS": [{"url": "https://x.example", "secret": DEV_WEBHOOK_SECRET}]},
            "development webhook secret",
        ),
        ({"ENCRYPTION_KEYS": DEV_ENCRYPTION_KEY}, "development key in GATEWAY_ENCRYPTION_KEYS"),
    ],
)
def test_production_refuses_placeholders(change: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Settings(**{**PRODUCTION_READY, **change})


def test_lists_come_from_json_or_commas() -> None:
    settings = Settings(
        ENVIRONMENT="development",
        API_KEYS="one-key, two-key",
        CALLBACK_ALLOWED_CIDRS='["196.201.214.0/24"]',
    )
    assert [k.get_secret_value() for k in settings.API_KEYS] == ["one-key", "two-key"]
    assert settings.CALLBACK_ALLOWED_CIDRS == ["196.201.214.0/24"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"CALLBACK_ALLOWED_CIDRS": "196.201.214/33"}, "CIDR"),
        ({"POLL_SCHEDULE_S": []}, "poll schedule"),
        ({"AMOUNT_MIN": 10, "AMOUNT_MAX": 5}, "AMOUNT_MIN"),
        ({"IDEMPOTENCY_TTL_H": 1}, "IDEMPOTENCY_TTL_H"),
    ],
)
def test_inconsistent_settings_are_refused(change: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Settings(ENVIRONMENT="development", **change)


@pytest.mark.parametrize("secret", ["plain-secret", "whsec_not base64!", "whsec_c2hvcnQ="])
def test_webhook_secret_must_be_a_whsec_key(secret: str) -> None:
    with pytest.raises(ValidationError, match="webhook secret"):
        WebhookEndpoint(url="https://x.example", secret=SecretStr(secret))


def test_callbacks_are_confirmed_by_query_unless_turned_off_outside_production() -> None:
    assert Settings(ENVIRONMENT="development").CALLBACK_CONFIRM_BY_QUERY is True
    staging = {**PRODUCTION_READY, "ENVIRONMENT": "sandbox", "DARAJA_ENVIRONMENT": "sandbox"}
    assert Settings(**staging, CALLBACK_CONFIRM_BY_QUERY=False).CALLBACK_CONFIRM_BY_QUERY is False


@pytest.mark.parametrize(
    "production",
    [{}, {"ENVIRONMENT": "sandbox"}],
    ids=["production", "daraja_production_only"],
)
def test_turning_confirmation_off_needs_an_allow_list_in_production(
    production: dict[str, Any],
) -> None:
    settings = {**PRODUCTION_READY, **production, "CALLBACK_CONFIRM_BY_QUERY": False}
    with pytest.raises(ValidationError, match="GATEWAY_CALLBACK_ALLOWED_CIDRS"):
        Settings(**settings)
    allowed = Settings(**settings, CALLBACK_ALLOWED_CIDRS=["196.201.214.0/24"])
    assert allowed.CALLBACK_CONFIRM_BY_QUERY is False


def test_production_refuses_the_development_audit_signing_key() -> None:
    given = {k: v for k, v in PRODUCTION_READY.items() if k != "AUDIT_SIGNING_KEY"}
    with pytest.raises(ValidationError, match="GATEWAY_AUDIT_SIGNING_KEY"):
        Settings(**given)


def test_an_audit_signing_key_must_be_32_bytes_of_base64() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(AUDIT_SIGNING_KEY="c2hvcnQ=")

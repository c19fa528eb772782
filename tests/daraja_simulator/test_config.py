import json
from typing import Any

import pytest
from pydantic import ValidationError

from daraja_simulator.config import SANDBOX_PASSKEY, Mode, QueryPendingStyle, Settings
from daraja_simulator.main import create_app


def test_defaults_are_a_fresh_sandbox_account(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SIMULATOR_PORT", "SIMULATOR_TIME_SCALE", "SIMULATOR_APPS"):
        monkeypatch.delenv(name, raising=False)

    settings = Settings()

    assert settings.PORT == 8002
    assert settings.TIME_SCALE == 1.0
    assert settings.AUTO_RESPOND is True
    assert settings.MODE is Mode.sandbox
    assert [(a.consumer_key, a.consumer_secret) for a in settings.APPS] == [
        ("test-consumer-key", "test-consumer-secret")
    ]
    [paybill] = settings.SHORTCODES
    assert (paybill.shortcode, paybill.passkey, paybill.kind) == (
        "174379",
        SANDBOX_PASSKEY,
        "paybill",
    )
    assert settings.TOKEN_TTL_S == 3599
    assert settings.INVALIDATE_PREVIOUS_TOKEN is True
    assert settings.QUERY_PENDING_STYLE is QueryPendingStyle.error
    assert settings.CALLBACK_RETRIES == 0
    assert settings.LONG_DELAY_S == 600
    assert settings.CALLBACK_INCLUDE_BALANCE is True


def test_complex_settings_come_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    shortcodes = [
        {"shortcode": "174379", "passkey": "p1"},
        {"shortcode": "300100", "passkey": "p2", "kind": "till", "tills": ["5100100", "5100101"]},
    ]
    monkeypatch.setenv("SIMULATOR_SHORTCODES", json.dumps(shortcodes))
    monkeypatch.setenv("SIMULATOR_APPS", '[{"consumer_key": "k", "consumer_secret": "s"}]')
    monkeypatch.setenv("SIMULATOR_QUERY_PENDING_STYLE", "4999")

    settings = Settings()

    assert settings.merchant_for("5100101") == settings.SHORTCODES[1]
    assert settings.shortcode("300100").kind == "till"  # type: ignore[union-attr]
    assert settings.APPS[0].consumer_key == "k"
    assert settings.QUERY_PENDING_STYLE is QueryPendingStyle.result_4999


def test_a_till_store_without_tills_is_its_own_till() -> None:
    settings = Settings(SHORTCODES=[{"shortcode": "300100", "passkey": "p", "kind": "till"}])

    assert settings.SHORTCODES[0].tills == ["300100"]


@pytest.mark.parametrize(
    "fields",
    [
        {"TIME_SCALE": 0},
        {"MIN_AMOUNT": 10, "MAX_AMOUNT": 5},
        {"SHORTCODES": [{"shortcode": "1234", "passkey": "p"}]},
        {"SHORTCODES": [{"shortcode": "174379", "passkey": "a"}] * 2},
        {"APPS": []},
    ],
)
def test_refuses_nonsense(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Settings(**fields)


def test_the_app_documents_every_daraja_path() -> None:
    paths = set(create_app(Settings()).openapi()["paths"])

    assert {
        "/oauth/v1/generate",
        "/mpesa/stkpush/v1/processrequest",
        "/mpesa/stkpushquery/v1/query",
        "/mpesa/transactionstatus/v1/query",
        "/pulltransactions/v1/register",
        "/pulltransactions/v1/query",
        "/simulator/reset",
        "/simulator/statement.csv",
        "/healthz",
    } <= paths

from typing import Any

import pytest
from pydantic import ValidationError

from session_api.config import Settings
from shared.webhook_signing import DEV_WEBHOOK_SECRET

PRODUCTION_SECRETS: dict[str, Any] = {
    "JWT_SECRET": "a-real-secret-that-is-long-enough-for-hs256",
    "GATEWAY_API_KEY": "k3y-from-the-vault",
    "WEBHOOK_SECRET": "whsec_cmVhbCBzZWNyZXQ=",
    "SMS_API_KEY": "atsk_from_the_vault_0123456789",
    "SMS_REPORT_TOKEN": "r4nd0m-report-path-token",
    "AUDIT_SIGNING_KEY": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
    "PHONE_HASH_KEY": "an-hmac-key-from-the-vault",
}


class TestSettings:
    def test_development_defaults_load(self) -> None:
        settings = Settings(ENVIRONMENT="development")
        assert settings.WEBHOOK_SECRET.get_secret_value() == DEV_WEBHOOK_SECRET
        assert settings.GATEWAY_URL == "http://127.0.0.1:8001"

    @pytest.mark.parametrize("name", sorted(PRODUCTION_SECRETS))
    def test_production_refuses_each_development_secret(self, name: str) -> None:
        given = {k: v for k, v in PRODUCTION_SECRETS.items() if k != name}

        with pytest.raises(ValidationError, match=f"SESSION_API_{name}"):
            Settings(ENVIRONMENT="production", **given)

    def test_production_starts_with_real_secrets(self) -> None:
        assert Settings(ENVIRONMENT="production", **PRODUCTION_SECRETS).ENVIRONMENT == "production"

    def test_a_short_jwt_secret_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="32 bytes"):
            Settings(JWT_SECRET="short")

    def test_the_webhook_secret_must_be_whsec(self) -> None:
        with pytest.raises(ValidationError, match="whsec_"):
            Settings(WEBHOOK_SECRET="plain")

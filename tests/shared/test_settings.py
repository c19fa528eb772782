from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings, Environment

# Unit tests: anything slower than this is stuck.
pytestmark = pytest.mark.timeout(10)


class DemoSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")
    secret_fields: ClassVar[tuple[str, ...]] = ("API_SECRET",)

    API_SECRET: SecretStr = SecretStr("changeme")


class TestPlaceholderSecrets:
    def test_allowed_in_development(self) -> None:
        settings = DemoSettings(ENVIRONMENT=Environment.development)
        assert settings.API_SECRET.get_secret_value() == "changeme"

    def test_refused_in_production_naming_the_variable(self) -> None:
        with pytest.raises(ValidationError, match="DEMO_API_SECRET"):
            DemoSettings(ENVIRONMENT=Environment.production)

    def test_real_secret_accepted_in_production(self) -> None:
        settings = DemoSettings(
            ENVIRONMENT=Environment.production, API_SECRET=SecretStr("k9f2-real-value-91ab")
        )
        assert settings.ENVIRONMENT is Environment.production

    def test_shared_urls_are_read_without_the_service_prefix(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://x@h/db")
        monkeypatch.setenv("DEMO_PORT", "9999")
        settings = DemoSettings()
        assert settings.DATABASE_URL == "postgresql+asyncpg://x@h/db"
        assert settings.PORT == 9999

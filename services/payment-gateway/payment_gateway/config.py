"""payment-gateway settings: environment variables prefixed `GATEWAY_` (plus the shared, unprefixed
`DATABASE_URL`, `REDIS_URL`, `ENVIRONMENT`, `LOG_LEVEL`, `LOG_JSON`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings

QUEUE_NAME = "arq:gateway"


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_")

    PORT: int = 8001


settings = Settings()

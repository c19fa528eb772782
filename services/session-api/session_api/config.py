"""session-api settings: environment variables prefixed `SESSION_API_` (plus the shared, unprefixed
`DATABASE_URL`, `REDIS_URL`, `ENVIRONMENT`, `LOG_LEVEL`, `LOG_JSON`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings

QUEUE_NAME = "arq:session"


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SESSION_API_")

    PORT: int = 8000


settings = Settings()

"""The settings base every service's settings class extends."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.devstack.servers import embedded_database_url, embedded_redis_url

PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "dev-", "test-", "example")


class Environment(StrEnum):
    development = "development"
    testing = "testing"
    sandbox = "sandbox"
    production = "production"


class BaseServiceSettings(BaseSettings):
    """Fields every service shares. Subclasses set their own ``env_prefix``.

    ``DATABASE_URL``, ``REDIS_URL`` and ``ENVIRONMENT`` are read without the service prefix so one
    environment configures the whole stack; the defaults point at the embedded dev stack.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Names of SecretStr fields a subclass wants checked for placeholder values outside development.
    secret_fields: ClassVar[tuple[str, ...]] = ()

    ENVIRONMENT: Environment = Field(
        default=Environment.development, validation_alias=AliasChoices("ENVIRONMENT")
    )
    DATABASE_URL: str = Field(
        default_factory=embedded_database_url, validation_alias=AliasChoices("DATABASE_URL")
    )
    REDIS_URL: str = Field(
        default_factory=embedded_redis_url, validation_alias=AliasChoices("REDIS_URL")
    )
    LOG_LEVEL: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    LOG_JSON: bool = Field(default=True, validation_alias=AliasChoices("LOG_JSON"))
    DATABASE_POOL_SIZE: int = 10
    DATABASE_MAX_OVERFLOW: int = 20
    DATABASE_CONNECT_TIMEOUT_S: float = 5.0
    # The arq worker's Redis connections: how long one may take to open, and how often a command
    # that timed out or lost its connection is tried again before the worker gives up.
    WORKER_REDIS_CONNECT_TIMEOUT_S: int = Field(default=5, ge=1)
    WORKER_REDIS_RETRIES: int = Field(default=5, ge=0)
    READINESS_TIMEOUT_S: float = 2.0
    HOST: str = "127.0.0.1"
    PORT: int = 8000
    # Serve HTTPS directly (a deployment without a TLS-terminating proxy): a PEM certificate
    # chain and its private key. Both or neither.
    TLS_CERT_FILE: Path | None = None
    TLS_KEY_FILE: Path | None = None

    @property
    def is_development(self) -> bool:
        return self.ENVIRONMENT in (Environment.development, Environment.testing)

    @model_validator(mode="after")
    def _tls_files(self) -> Self:
        prefix = self.model_config.get("env_prefix", "")
        if (self.TLS_CERT_FILE is None) != (self.TLS_KEY_FILE is None):
            raise ValueError(f"set both {prefix}TLS_CERT_FILE and {prefix}TLS_KEY_FILE, or neither")
        for name in ("TLS_CERT_FILE", "TLS_KEY_FILE"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{prefix}{name}: {path} is not a readable file")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        if self.is_development:
            return self
        bad = [name for name in self.secret_fields if _is_placeholder(getattr(self, name))]
        if bad:
            raise ValueError(
                f"placeholder secrets are refused in {self.ENVIRONMENT.value}: set "
                + ", ".join(f"{self.model_config.get('env_prefix', '')}{name}" for name in bad)
            )
        return self


def _is_placeholder(value: Any) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, list | tuple | set | frozenset):
        return any(_is_placeholder(item) for item in value) or not value
    if not isinstance(value, str):
        return False
    lowered = value.lower()
    return not value or any(marker in lowered for marker in PLACEHOLDER_MARKERS)

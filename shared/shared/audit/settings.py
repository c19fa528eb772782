"""The audit settings both services share (each under its own prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from shared.audit import signing
from shared.settings import BaseServiceSettings

SEVEN_YEARS_DAYS = 7 * 365 + 2


class AuditSettings(BaseServiceSettings):
    """`AUDIT_*`: the checkpoint signing key, how often checkpoints are made and where their
    copies outside the database go, retention and where archives go."""

    # The service's name in checkpoints, archive files and default paths.
    audit_service: ClassVar[str] = "service"

    # Base64 of a 32-byte Ed25519 seed; the embedded development key is refused elsewhere.
    AUDIT_SIGNING_KEY: SecretStr = SecretStr(signing.DEV_SIGNING_KEY)
    # Public halves (base64) of earlier signing keys, so checkpoints they signed still verify.
    AUDIT_TRUSTED_PUBLIC_KEYS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    AUDIT_CHECKPOINT_INTERVAL_MIN: int = Field(default=10, ge=1, le=60)
    # The append-only JSON-lines copy of every checkpoint (empty: under var/audit/).
    AUDIT_CHECKPOINT_FILE: str = ""
    AUDIT_RETENTION_DAYS: int = Field(default=SEVEN_YEARS_DAYS, ge=1)
    # Where rows past retention are archived; empty: var/audit/archive.
    AUDIT_ARCHIVE_DIR: str = ""
    AUDIT_CHAIN_BATCH_SIZE: int = Field(default=1000, ge=1, le=100_000)

    @field_validator("AUDIT_TRUSTED_PUBLIC_KEYS", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _audit_keys(self) -> Self:
        prefix = self.model_config.get("env_prefix", "")
        try:
            signing.private_key(self.AUDIT_SIGNING_KEY.get_secret_value())
            for key in self.AUDIT_TRUSTED_PUBLIC_KEYS:
                signing.public_key(key)
        except signing.InvalidKey as e:
            raise ValueError(f"{prefix}AUDIT_SIGNING_KEY / AUDIT_TRUSTED_PUBLIC_KEYS: {e}") from e
        dev = self.AUDIT_SIGNING_KEY.get_secret_value() == signing.DEV_SIGNING_KEY
        if dev and not self.is_development:
            raise ValueError(
                f"the development audit signing key is refused in {self.ENVIRONMENT.value}: set "
                f"{prefix}AUDIT_SIGNING_KEY to base64 of 32 random bytes"
            )
        return self

    @property
    def audit_checkpoint_path(self) -> Path:
        default = f"var/audit/{self.audit_service}-checkpoints.jsonl"
        return Path(self.AUDIT_CHECKPOINT_FILE or default)

    @property
    def audit_archive_dir(self) -> Path:
        return Path(self.AUDIT_ARCHIVE_DIR or "var/audit/archive")

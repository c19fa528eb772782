"""How a `DarajaClient` reaches one Daraja app: credentials, shortcode and every tuning knob."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class DarajaConfig(BaseModel):
    """One Daraja app. Built by the gateway's settings; frozen so a client never sees it change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    consumer_key: str = Field(min_length=1)
    consumer_secret: SecretStr
    shortcode: str = Field(pattern=r"^\d{5,7}$", description="BusinessShortCode")
    party_b: str = Field(
        pattern=r"^\d{5,7}$", description="Till number for buy goods; the shortcode for paybill"
    )
    passkey: SecretStr
    transaction_type: Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"]
    environment: Literal["sandbox", "production"]
    # Where Daraja sends this app's STK callbacks (the gateway's public base URL when unset).
    callback_base_url: str | None = None
    # The API initiator of Transaction Status and its SecurityCredential, when they come with
    # the app's stored credentials.
    initiator_name: str | None = None
    security_credential: SecretStr | None = None

    connect_timeout_s: float = Field(default=5, gt=0)
    read_timeout_s: float = Field(default=15, gt=0)
    write_timeout_s: float = Field(default=10, gt=0)
    pool_timeout_s: float = Field(default=5, gt=0)
    max_connections: int = Field(default=100, ge=1)

    token_refresh_margin_s: int = Field(default=60, ge=0)
    # The lock outlives a token fetch (the fetch is cut off at 90% of it), so a second process
    # never fetches while the first still may; waiters give up after twice this.
    token_lock_timeout_s: float = Field(default=10, gt=0)
    token_poll_interval_s: float = Field(default=0.05, gt=0)

    query_max_retries: int = Field(default=2, ge=0)
    query_backoff_base_s: float = Field(default=0.5, gt=0)
    query_backoff_cap_s: float = Field(default=5, gt=0)
    query_rate_per_second: float = Field(default=5, gt=0)
    # A query that would have to wait longer than this for its slot is refused as rate limited
    # (without taking the slot) so a poller reschedules instead of piling up.
    query_rate_max_wait_s: float = Field(default=5, ge=0)

    # Daraja sends no Retry-After; these are the hints carried by the errors it stands for.
    spike_arrest_backoff_s: float = Field(default=5, ge=0)
    quota_backoff_s: float = Field(default=60, ge=0)
    system_busy_backoff_s: float = Field(default=120, ge=0)
    subscriber_busy_backoff_s: float = Field(default=60, ge=0)

    redis_key_prefix: str = "daraja"

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if self.environment == "production" and not self.base_url.startswith("https://"):
            raise ValueError("base_url must be https in the production environment")
        if not self.consumer_secret.get_secret_value() or not self.passkey.get_secret_value():
            raise ValueError("consumer_secret and passkey must not be empty")
        if self.transaction_type == "CustomerPayBillOnline" and self.party_b != self.shortcode:
            raise ValueError("for CustomerPayBillOnline party_b must equal the shortcode")
        return self

    @property
    def url_root(self) -> str:
        return self.base_url.rstrip("/")

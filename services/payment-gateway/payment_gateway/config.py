"""payment-gateway settings: environment variables prefixed `GATEWAY_` (plus the shared, unprefixed
`DATABASE_URL`, `REDIS_URL`, `ENVIRONMENT`, `LOG_LEVEL`, `LOG_JSON`)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.audit.settings import AuditSettings
from shared.ratelimit import RateLimitSpec
from shared.settings import Environment
from shared.webhook_signing import DEV_WEBHOOK_SECRET

# Safaricom's public sandbox passkey for shortcode 174379 (see the Daraja reference, §7).
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
# Where `make run` delivers events: session-api on its default port.
DEV_WEBHOOK_URL = "http://127.0.0.1:8000/internal/payment-events"
# What session-api takes: every payment event, and a finished reconciliation run (it emails
# staff and admins when the run left exceptions open).
SESSION_API_EVENT_TYPES = ("payment.*", "reconciliation.completed")
# The key-encryption key development uses for stored Daraja credentials: public, so refused in
# production and flagged by the readiness checklist everywhere else.
DEV_ENCRYPTION_KEY = "dev:ZGV2LW9ubHktZ2F0ZXdheS1rZXktZW5jcnlwdGlvbi0="


class WebhookEndpoint(BaseModel):
    """One subscriber of events, and the event types it takes (`payment.*` by default;
    `reconciliation.*` or `*` add the reconciliation events)."""

    url: str
    secret: SecretStr
    types: list[str] = Field(default_factory=lambda: ["payment.*"])

    def wants(self, event_type: str) -> bool:
        return any(
            pattern in ("*", event_type)
            or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
            for pattern in self.types
        )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("a webhook endpoint url must start with http:// or https://")
        return value

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if not raw.startswith("whsec_"):
            raise ValueError("a webhook secret has the form whsec_<base64 key>")
        try:
            key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
        except binascii.Error as e:
            raise ValueError("the part of a webhook secret after whsec_ must be base64") from e
        if len(key) < 24:
            raise ValueError("a webhook secret key must be at least 24 bytes")
        return value


def _comma_list(value: Any) -> Any:
    """Accept a JSON list or a comma-separated string from the environment."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            import json

            return json.loads(stripped)
        return [item.strip() for item in stripped.split(",") if item.strip()]
    return value


def parse_encryption_key(entry: str) -> tuple[str, bytes]:
    """`id:base64key` as (id, 32 key bytes); the message names what is accepted."""
    key_id, sep, encoded = entry.strip().partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", key_id):
        raise ValueError(
            "each GATEWAY_ENCRYPTION_KEYS entry is id:base64key, the id 1-32 letters, digits, "
            "dots, dashes or underscores"
        )
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as e:
        raise ValueError(
            f"encryption key {key_id!r}: the part after the colon is not base64"
        ) from e
    if len(key) != 32:
        raise ValueError(f"encryption key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
    return key_id, key


class Settings(AuditSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_")

    audit_service: ClassVar[str] = "payment_gateway"

    secret_fields: ClassVar[tuple[str, ...]] = (
        "API_KEYS",
        "DARAJA_CONSUMER_KEY",
        "DARAJA_CONSUMER_SECRET",
        "ERASURE_HASH_KEY",
    )

    PORT: int = 8001
    API_KEYS: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr("dev-service-key")]
    )
    PUBLIC_BASE_URL: str = "http://127.0.0.1:8001"

    DARAJA_BASE_URL: str = "http://127.0.0.1:8002"
    DARAJA_CONSUMER_KEY: SecretStr = SecretStr("test-consumer-key")
    DARAJA_CONSUMER_SECRET: SecretStr = SecretStr("test-consumer-secret")
    DARAJA_SHORTCODE: str = "174379"
    DARAJA_PARTY_B: str | None = None
    DARAJA_PASSKEY: SecretStr = SecretStr(SANDBOX_PASSKEY)
    DARAJA_TRANSACTION_TYPE: Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"] = (
        "CustomerPayBillOnline"
    )
    # The environment the gateway starts in while no switch is stored (the credentials above
    # are its bootstrap: stored credentials of the active environment win over them).
    DARAJA_ENVIRONMENT: Literal["sandbox", "production"] = "sandbox"
    # DARAJA_BASE_URL serves DARAJA_ENVIRONMENT; the other environment is reached here.
    DARAJA_SANDBOX_BASE_URL: str = "https://sandbox.safaricom.co.ke"
    DARAJA_PRODUCTION_BASE_URL: str = "https://api.safaricom.co.ke"
    DARAJA_CONNECT_TIMEOUT_S: float = 5.0
    DARAJA_READ_TIMEOUT_S: float = 30.0
    DARAJA_TOKEN_REFRESH_MARGIN_S: float = 60.0
    DARAJA_QUERY_MAX_RETRIES: int = 2
    DARAJA_QUERY_RATE_PER_SECOND: float = 5.0

    # Key-encryption keys of stored Daraja credentials, `id:base64 of 32 bytes` each, comma
    # separated; the last one encrypts, the others only decrypt (until `rotate-keys` has run).
    ENCRYPTION_KEYS: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr(DEV_ENCRYPTION_KEY)]
    )
    # How long a process keeps the active environment and its stored credentials before it
    # reads them again: a switch or a credential change reaches every process within this.
    CREDENTIALS_CACHE_TTL_S: float = Field(default=5.0, gt=0, le=60)
    # The STK Query a connection test makes when the environment has no payment to ask about.
    CREDENTIALS_TEST_CHECKOUT_REQUEST_ID: str = "ws_CO_01122026000000000000000"

    AMOUNT_MIN: int = Field(default=1, ge=1)
    AMOUNT_MAX: int = Field(default=250_000, ge=1)
    DUPLICATE_WINDOW_S: float = 120.0
    IDEMPOTENCY_TTL_H: float = Field(default=24.0, ge=24.0)
    IDEMPOTENCY_LOCK_TIMEOUT_S: float = 90.0

    PUSH_MAX_ATTEMPTS: int = Field(default=6, ge=1)
    PUSH_RETRY_BASE_S: float = 2.0
    PUSH_RETRY_CAP_S: float = 30.0
    POLL_SCHEDULE_S: list[float] = Field(
        default_factory=lambda: [20.0, 30.0, 60.0, 120.0, 300.0, 600.0]
    )
    # The sweep (one cron job) resumes open payments, stored callbacks and event deliveries whose
    # job was lost: how often it runs, how late a job must be, how many of each kind one run
    # takes, and how long one run may take.
    SWEEP_INTERVAL_S: int = Field(default=60, ge=1)
    SWEEP_GRACE_S: float = 30.0
    SWEEP_BATCH_SIZE: int = Field(default=500, ge=1)
    SWEEP_TIMEOUT_S: float = Field(default=300.0, gt=0)
    REFRESH_MIN_INTERVAL_S: float = 10.0
    # The widest window the console's stats accept: bounds the rows one request aggregates.
    CONSOLE_STATS_MAX_DAYS: int = Field(default=366, ge=1)
    # How far back each refresh of the stats' hourly rollups looks again: a payment's
    # transaction may commit after the updated_at it wrote; longer than any such transaction.
    CONSOLE_STATS_REFRESH_OVERLAP_S: float = Field(default=120.0, ge=0)

    CALLBACK_ALLOWED_CIDRS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    TRUSTED_PROXY_HOPS: int = Field(default=0, ge=0)
    CALLBACK_MAX_BYTES: int = 65_536
    # Erasure (POST /v1/erasures): an erased payer's phone is kept only as HMAC-SHA256 under
    # this key, so payments from one phone still match each other and nobody can read it.
    ERASURE_HASH_KEY: SecretStr = SecretStr("dev-gateway-erasure-hash-key")
    # Rate limits (`shared.ratelimit`: '<count>/<period>', several joined with ';'), shared by
    # every API process through Redis. Safaricom sends every callback from a handful of
    # addresses, so the per-address callback limit is generous: it stops a flood, not Daraja.
    RATE_LIMITS_ENABLED: bool = True
    CALLBACK_RATE_LIMIT_PER_IP: RateLimitSpec = "300/second"
    SERVICE_KEY_RATE_LIMIT: RateLimitSpec = "200/second"
    CALLBACK_STORE_POOL_SIZE: int = Field(default=10, ge=1)
    # Daraja signs nothing: a success callback from outside the allow-list is credited only once
    # STK Query confirms it (and one contradicting a final state always is). Turning this off
    # credits callbacks on their URL alone; refused in production without an allow-list.
    CALLBACK_CONFIRM_BY_QUERY: bool = True
    # The base of the jittered backoff between attempts at a callback (STK Query still
    # "processing", Daraja unreachable, a failed transaction), and how many attempts it gets
    # before it ends unverified (nothing credited, polling goes on) or in error.
    CALLBACK_CONFIRM_RETRY_S: float = Field(default=5.0, gt=0)
    CALLBACK_PROCESS_MAX_ATTEMPTS: int = Field(default=5, ge=1, le=20)

    # Reconciliation (README "Reconciliation"): how many receipts or payments one unit of work
    # judges (the checkpoint moves after each), and how far back an open payment may be matched
    # by account reference to money paid by hand.
    RECONCILIATION_BATCH_SIZE: int = Field(default=500, ge=1)
    RECONCILIATION_REFERENCE_LOOKBACK_H: float = Field(default=72.0, gt=0)
    RECONCILIATION_STATEMENT_MAX_BYTES: int = Field(default=512 * 1024 * 1024, ge=1)
    # Pull Transactions: registered before a run's first page when a nominated number (the
    # MSISDN on the shortcode's KYC) is set; a run walking more pages than this fails.
    RECONCILIATION_PULL_NOMINATED_NUMBER: str | None = None
    RECONCILIATION_PULL_MAX_PAGES: int = Field(default=500, ge=1)
    RECONCILIATION_RETRY_S: float = Field(default=30.0, gt=0)
    # A run whose source stays unavailable (Daraja down) through this many tries of its job
    # ends `failed` with the reason; asking for the same window again resumes it.
    RECONCILIATION_RUN_MAX_TRIES: int = Field(default=20, ge=1, le=100)
    # Transaction Status: the API initiator and its SecurityCredential (the initiator's password
    # RSA-encrypted with Safaricom's certificate, PKCS#1 v1.5, base64: made once with the
    # certificate of the environment); how long a run waits for the results, how often it
    # looks, and how many times a request that timed out in Daraja's queue is asked again.
    RECONCILIATION_INITIATOR: str = "testapiuser"
    RECONCILIATION_SECURITY_CREDENTIAL: SecretStr = SecretStr("dev-security-credential")
    RECONCILIATION_STATUS_WAIT_S: float = Field(default=300.0, gt=0)
    RECONCILIATION_STATUS_POLL_S: float = Field(default=5.0, gt=0)
    RECONCILIATION_STATUS_MAX_ATTEMPTS: int = Field(default=3, ge=1)
    # The secret in the C2B ConfirmationURL/ValidationURL registered for the paybill; unset,
    # C2B confirmations are refused (404) and the register call says so.
    RECONCILIATION_C2B_TOKEN: SecretStr | None = None
    # C2B validation: refuse money whose account reference matches no open payment (created in
    # the last RECONCILIATION_REFERENCE_LOOKBACK_H hours, unpaid); off, every payment is taken.
    RECONCILIATION_C2B_REJECT_UNKNOWN_REFERENCE: bool = False
    # The daily run: at this Nairobi time, over the hours before it, with these sources; and
    # the hourly Pull run over the last hours (both off with RECONCILIATION_SCHEDULE=false).
    RECONCILIATION_SCHEDULE: bool = True
    RECONCILIATION_DAILY_HOUR: int = Field(default=23, ge=0, le=23)
    RECONCILIATION_DAILY_MINUTE: int = Field(default=0, ge=0, le=59)
    RECONCILIATION_DAILY_WINDOW_H: int = Field(default=24, ge=1, le=48)
    RECONCILIATION_DAILY_SOURCES: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["stk_query", "pull", "statement"]
    )
    RECONCILIATION_PULL_WINDOW_H: int = Field(default=2, ge=1, le=48)

    # Refunds through M-Pesa Reversal: the API initiator with the "Org Reversals Initiator"
    # role and its SecurityCredential (made like RECONCILIATION_SECURITY_CREDENTIAL); how many
    # times a Reversal is sent when Daraja is unreachable or its result times out in Daraja's
    # queue, and the jittered exponential backoff between those attempts.
    REVERSAL_INITIATOR: str = "testapiuser"
    REVERSAL_SECURITY_CREDENTIAL: SecretStr = SecretStr("dev-security-credential")
    REVERSAL_MAX_ATTEMPTS: int = Field(default=5, ge=1, le=20)
    REVERSAL_RETRY_BASE_S: float = Field(default=5.0, gt=0)
    REVERSAL_RETRY_CAP_S: float = Field(default=300.0, gt=0)
    # How long a Reversal Daraja accepted may go without a result (at either URL) before the
    # sweep sends it again.
    REVERSAL_RESULT_WAIT_S: float = Field(default=900.0, gt=0)

    WEBHOOK_ENDPOINTS: list[WebhookEndpoint] = Field(
        default_factory=lambda: [
            WebhookEndpoint(
                url=DEV_WEBHOOK_URL,
                secret=SecretStr(DEV_WEBHOOK_SECRET),
                types=list(SESSION_API_EVENT_TYPES),
            )
        ]
    )
    WEBHOOK_TIMEOUT_S: float = 10.0
    WEBHOOK_RETRY_BASE_S: float = 5.0
    WEBHOOK_RETRY_CAP_S: float = 6 * 3600.0
    WEBHOOK_MAX_AGE_H: float = 72.0

    # Names this deployment's Redis keys (its arq queue, the shared Daraja token, rate limits)
    # and its PostgreSQL notification channel, so deployments can share servers.
    NAMESPACE: str = Field(default="gateway", pattern=r"^[a-z0-9_]+$")

    TIME_SCALE: float = Field(default=1.0, gt=0)
    STATS_REFRESH_S: float = 15.0
    WORKER_METRICS_PORT: int = 0
    WORKER_MAX_JOBS: int = 20
    # How often an idle worker looks for due jobs: bounds how long a stored callback waits.
    WORKER_POLL_DELAY_S: float = Field(default=0.05, gt=0)

    @field_validator(
        "API_KEYS",
        "CALLBACK_ALLOWED_CIDRS",
        "RECONCILIATION_DAILY_SOURCES",
        "ENCRYPTION_KEYS",
        mode="before",
    )
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _comma_list(value)

    @field_validator("CALLBACK_ALLOWED_CIDRS")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as e:
                raise ValueError(f"{cidr!r} is not a CIDR network such as 196.201.214.0/24") from e
        return value

    @field_validator("ENCRYPTION_KEYS")
    @classmethod
    def _encryption_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        if not value:
            raise ValueError("GATEWAY_ENCRYPTION_KEYS needs at least one id:base64key entry")
        ids = [parse_encryption_key(entry.get_secret_value())[0] for entry in value]
        if len(set(ids)) != len(ids):
            raise ValueError("GATEWAY_ENCRYPTION_KEYS names a key id twice")
        return value

    @field_validator("POLL_SCHEDULE_S")
    @classmethod
    def _schedule(cls, value: list[float]) -> list[float]:
        if not value or any(step <= 0 for step in value):
            raise ValueError("the poll schedule is a non-empty list of positive delays in seconds")
        return value

    @field_validator(
        "PUBLIC_BASE_URL",
        "DARAJA_BASE_URL",
        "DARAJA_SANDBOX_BASE_URL",
        "DARAJA_PRODUCTION_BASE_URL",
    )
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_rules(self) -> Self:
        if self.AMOUNT_MIN > self.AMOUNT_MAX:
            raise ValueError("GATEWAY_AMOUNT_MIN must not exceed GATEWAY_AMOUNT_MAX")
        if self.DARAJA_ENVIRONMENT == "production":
            if self.DARAJA_PASSKEY.get_secret_value() == SANDBOX_PASSKEY:
                raise ValueError("GATEWAY_DARAJA_PASSKEY is the public sandbox passkey")
            if not self.PUBLIC_BASE_URL.startswith("https://"):
                raise ValueError("Daraja production requires an https GATEWAY_PUBLIC_BASE_URL")
        production = (
            self.ENVIRONMENT is Environment.production or self.DARAJA_ENVIRONMENT == "production"
        )
        if production and not self.CALLBACK_CONFIRM_BY_QUERY and not self.CALLBACK_ALLOWED_CIDRS:
            raise ValueError(
                "GATEWAY_CALLBACK_CONFIRM_BY_QUERY=false is refused in production without "
                "GATEWAY_CALLBACK_ALLOWED_CIDRS: anyone who learned a callback URL could then "
                "complete its payment with an invented receipt"
            )
        if self.ENVIRONMENT is Environment.production and self.uses_dev_encryption_key:
            raise ValueError(
                "the development key in GATEWAY_ENCRYPTION_KEYS is refused in production: add "
                "a key of your own (id:base64 of 32 random bytes) and run `rotate-keys`"
            )
        if not self.is_development:
            dev = [
                e.url
                for e in self.WEBHOOK_ENDPOINTS
                if e.secret.get_secret_value() == DEV_WEBHOOK_SECRET
            ]
            if dev:
                raise ValueError(
                    "the development webhook secret is refused in "
                    f"{self.ENVIRONMENT.value}: set GATEWAY_WEBHOOK_ENDPOINTS secrets for {dev}"
                )
        return self

    @property
    def queue_name(self) -> str:
        return f"arq:{self.NAMESPACE}"

    @property
    def callback_channel(self) -> str:
        """The PostgreSQL NOTIFY channel on which stored callbacks are announced to workers."""
        return f"{self.NAMESPACE}_callback"

    @property
    def encryption_keys(self) -> dict[str, bytes]:
        """Key-encryption keys by id, in the order given: the last one encrypts."""
        return dict(parse_encryption_key(e.get_secret_value()) for e in self.ENCRYPTION_KEYS)

    @property
    def uses_dev_encryption_key(self) -> bool:
        return any(e.get_secret_value() == DEV_ENCRYPTION_KEY for e in self.ENCRYPTION_KEYS)

    def daraja_base_url(self, environment: str) -> str:
        if environment == self.DARAJA_ENVIRONMENT:
            return self.DARAJA_BASE_URL
        if environment == "production":
            return self.DARAJA_PRODUCTION_BASE_URL
        return self.DARAJA_SANDBOX_BASE_URL

    @property
    def party_b(self) -> str:
        return self.DARAJA_PARTY_B or self.DARAJA_SHORTCODE

    def scaled(self, seconds: float) -> float:
        """A schedule delay after `TIME_SCALE` (tests run whole flows in a fraction of the time)."""
        return seconds * self.TIME_SCALE

    def endpoint(self, url: str) -> WebhookEndpoint | None:
        return next((e for e in self.WEBHOOK_ENDPOINTS if e.url == url), None)


settings = Settings()

"""session-api settings: environment variables prefixed `SESSION_API_` (plus the shared, unprefixed
`DATABASE_URL`, `REDIS_URL`, `ENVIRONMENT`, `LOG_LEVEL`, `LOG_JSON`)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.audit.settings import AuditSettings
from shared.ratelimit import RateLimitSpec
from shared.settings import Environment
from shared.webhook_signing import DEV_WEBHOOK_SECRET

QUEUE_NAME = "arq:session"
# `make run` builds the web app here (web/dist in the checkout).
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[3] / "web" / "dist"


class Settings(AuditSettings):
    model_config = SettingsConfigDict(env_prefix="SESSION_API_")

    audit_service: ClassVar[str] = "session_api"

    secret_fields: ClassVar[tuple[str, ...]] = (
        "JWT_SECRET",
        "GATEWAY_API_KEY",
        "WEBHOOK_SECRET",
        "SMS_API_KEY",
        "SMS_REPORT_TOKEN",
        "PHONE_HASH_KEY",
    )

    PORT: int = 8000
    CORS_ORIGINS: list[str] = Field(default_factory=list)

    # Access tokens.
    JWT_SECRET: SecretStr = SecretStr("dev-session-api-jwt-secret-not-for-production")
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    JWT_ISSUER: str = "session-api"
    ACCESS_TOKEN_TTL_S: int = Field(default=3600, ge=60)
    # argon2id cost (argon2-cffi's RFC 9106 low-memory profile by default).
    ARGON2_TIME_COST: int = Field(default=3, ge=1)
    ARGON2_MEMORY_KIB: int = Field(default=65536, ge=8)
    ARGON2_PARALLELISM: int = Field(default=4, ge=1)

    # The payment gateway: where to call it and how to authenticate the events it sends back.
    GATEWAY_URL: str = "http://127.0.0.1:8001"
    GATEWAY_API_KEY: SecretStr = SecretStr("dev-service-key")
    GATEWAY_TIMEOUT_S: float = Field(default=10.0, gt=0)
    GATEWAY_CONNECT_TIMEOUT_S: float = Field(default=3.0, gt=0)
    GATEWAY_RETRY_AFTER_S: int = Field(default=30, ge=1)
    # Rows the staff console's CSV export reads (and asks the gateway about) per batch; at most
    # the gateway's 1000 ids per facts request.
    CONSOLE_EXPORT_BATCH_SIZE: int = Field(default=1000, ge=1, le=1000)
    WEBHOOK_SECRET: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    WEBHOOK_TOLERANCE_S: int = Field(default=300, ge=1)

    # Money rules, all in whole KES.
    PAYMENT_MIN_KES: int = Field(default=1, ge=1)
    PAYMENT_MAX_KES: int = Field(default=250_000, ge=1)
    DEPOSIT_MIN_KES: int = Field(default=10, ge=1)
    DELIVERY_FEE_KES: int = Field(default=300, ge=0)
    FREE_DELIVERY_FROM_KES: int | None = Field(default=None, ge=1)

    # Bookings.
    BOOKING_MIN_LEAD_MINUTES: int = Field(default=15, ge=0)
    BOOKING_DURATION_MINUTES: int = Field(default=60, ge=15)
    REMINDER_LEAD_HOURS: list[int] = Field(default_factory=lambda: [24, 1])

    # Payment status delivery.
    SSE_MAX_DURATION_S: float = Field(default=600.0, gt=0)
    SSE_RECHECK_S: float = Field(default=15.0, gt=0)
    STALE_ATTEMPT_AFTER_S: int = Field(default=900, ge=60)
    RECEIPT_BACKFILL_AFTER_S: int = Field(default=30, ge=0)

    # Worker schedules (the minutes of each hour a cron job runs; None: every minute) and batches.
    REMINDER_CRON_MINUTES: set[int] = Field(default_factory=lambda: set(range(0, 60, 5)))
    STALE_REFRESH_CRON_MINUTES: set[int] | None = None
    STALE_REFRESH_BATCH_SIZE: int = Field(default=50, ge=1)
    WALLET_CHECK_CRON_MINUTES: set[int] = Field(default_factory=lambda: {17})

    # The web app: its built files, served at `/`, and what its payment screens show.
    WEB_DIR: Path = DEFAULT_WEB_DIR
    PROMPT_WINDOW_S: int = Field(default=60, ge=10, le=600)

    # Who the notifications come from, and what a payer needs to pay without the app.
    BUSINESS_NAME: str = Field(default="Tiba Therapy", min_length=1, max_length=80)
    BUSINESS_PAYBILL: str = Field(default="174379", pattern=r"^\d{5,7}$")
    PUBLIC_URL: str = "http://127.0.0.1:8000"

    # Email over SMTP (aiosmtplib). `starttls` upgrades a plain connection (port 587), `tls`
    # connects over TLS (465), `none` is for a local catch-all such as the simulator's.
    SMTP_HOST: str = "127.0.0.1"
    SMTP_PORT: int = Field(default=2525, ge=1, le=65535)
    SMTP_SECURITY: Literal["none", "starttls", "tls"] = "none"
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_TIMEOUT_S: float = Field(default=10.0, gt=0)
    MAIL_FROM: str = Field(default="notifications@tiba.example", pattern=r"^[^@\s]+@[^@\s]+$")

    # SMS through Africa's Talking's HTTP API (the simulator by default). The delivery-report URL
    # to give their dashboard is `{PUBLIC_URL}/v1/notifications/sms/reports/{SMS_REPORT_TOKEN}`.
    SMS_URL: str = "http://127.0.0.1:8002/version1/messaging"
    SMS_USERNAME: str = "sandbox"
    SMS_API_KEY: SecretStr = SecretStr("test-at-api-key")
    SMS_SENDER_ID: str | None = None
    SMS_TIMEOUT_S: float = Field(default=5.0, gt=0)
    SMS_REPORT_TOKEN: SecretStr = SecretStr("dev-sms-report-token")

    # The notification outbox: retries with jittered backoff, then failed for good.
    NOTIFY_MAX_ATTEMPTS: int = Field(default=6, ge=1)
    NOTIFY_RETRY_BASE_S: float = Field(default=30.0, gt=0)
    NOTIFY_RETRY_CAP_S: float = Field(default=3600.0, gt=0)
    # A delivery claimed this long ago whose worker never recorded the outcome was cut off.
    NOTIFY_STALE_SENDING_S: int = Field(default=300, ge=1)
    NOTIFY_SWEEP_CRON_MINUTES: set[int] | None = None
    NOTIFY_SWEEP_BATCH_SIZE: int = Field(default=200, ge=1)

    # Rate limits (`shared.ratelimit`: '<count>/<period>', several joined with ';'), counted in
    # Redis so every API process shares them. Addresses are the peer's, or with proxies in
    # front the X-Forwarded-For entry TRUSTED_PROXY_HOPS from the right.
    RATE_LIMITS_ENABLED: bool = True
    TRUSTED_PROXY_HOPS: int = Field(default=0, ge=0)
    LOGIN_RATE_LIMIT_PER_IP: RateLimitSpec = "20/minute;300/hour"
    REGISTER_RATE_LIMIT_PER_IP: RateLimitSpec = "5/minute;30/day"
    # Failed logins per account: each window that fills locks the account's logins until it
    # empties, so the lockout grows from minutes to a day as failures go on.
    LOGIN_FAILURE_LOCKOUT: RateLimitSpec = "5/15 minutes;10/hour;20/day"
    # M-Pesa prompts: per account, and per phone whoever asks (a phone is not spammed).
    PAYMENT_RATE_LIMIT_PER_USER: RateLimitSpec = "10/10 minutes;60/day"
    PAYMENT_RATE_LIMIT_PER_PHONE: RateLimitSpec = "5/10 minutes"

    # Suspicious activity, flagged for staff (GET /v1/admin/risk-flags), never blocked: failed
    # payments from one phone, phones one account paid from, and accounts that paid from one
    # phone, each counted over RISK_WINDOW_H hours.
    RISK_WINDOW_H: int = Field(default=24, ge=1)
    RISK_FAILED_PAYMENTS_PER_PHONE: int = Field(default=5, ge=2)
    RISK_PHONES_PER_ACCOUNT: int = Field(default=3, ge=2)
    RISK_ACCOUNTS_PER_PHONE: int = Field(default=3, ge=2)

    # Phones kept as HMAC-SHA256 under this key: each payment attempt's (for the checks above)
    # and an erased account's (its only trace): equal phones match, nobody can read them.
    PHONE_HASH_KEY: SecretStr = SecretStr("dev-phone-hash-key-not-for-production")
    # The minutes of each hour the suspicious-activity check runs (None: every minute).
    RISK_CRON_MINUTES: set[int] | None = None
    # Transport hardening: HSTS and a strict Content-Security-Policy on every answer. Unset, on
    # with ENVIRONMENT=production only (the built app is checked to run under the policy).
    SECURITY_HEADERS: bool | None = None
    HSTS_MAX_AGE_S: int = Field(default=63_072_000, ge=0)

    # Development convenience: `make run` starts the API with demo users and products in place.
    SEED_ON_STARTUP: bool = True

    @property
    def security_headers(self) -> bool:
        if self.SECURITY_HEADERS is not None:
            return self.SECURITY_HEADERS
        return self.ENVIRONMENT is Environment.production

    @model_validator(mode="after")
    def _check_secrets(self) -> Self:
        if len(self.JWT_SECRET.get_secret_value().encode()) < 32:
            # RFC 7518: an HMAC key at least as long as the hash output.
            raise ValueError("SESSION_API_JWT_SECRET must be at least 32 bytes")
        # The base check looks for placeholder words; the dev webhook secret is base64 and hides
        # them, so it is named here.
        if not self.is_development and self.WEBHOOK_SECRET.get_secret_value() == DEV_WEBHOOK_SECRET:
            raise ValueError(
                f"the development webhook secret is refused in {self.ENVIRONMENT.value}: "
                "set SESSION_API_WEBHOOK_SECRET"
            )
        if not self.WEBHOOK_SECRET.get_secret_value().startswith("whsec_"):
            raise ValueError("SESSION_API_WEBHOOK_SECRET must look like whsec_<base64>")
        return self


settings = Settings()

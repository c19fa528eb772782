"""Simulator settings: environment variables prefixed `SIMULATOR_`.

Lists and objects (apps, shortcodes, blocked words) are given as JSON, for example
``SIMULATOR_SHORTCODES='[{"shortcode": "600100", "passkey": "...", "kind": "till",
"tills": ["5100100"]}]'``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings

# Safaricom publishes this passkey for the sandbox Lipa na M-Pesa shortcode 174379.
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


class Mode(StrEnum):
    sandbox = "sandbox"
    production = "production"


class QueryPendingStyle(StrEnum):
    """How the STK query answers while the outcome is unknown."""

    error = "error"  # HTTP 500 `500.001.1001` "The transaction is being processed"
    result_4999 = "4999"  # HTTP 200 with ResultCode "4999"


class App(BaseModel):
    """A Daraja app: the consumer key and secret its OAuth requests present."""

    consumer_key: str = Field(min_length=1)
    consumer_secret: str = Field(min_length=1)


class Shortcode(BaseModel):
    """A business shortcode that may start STK pushes.

    A paybill takes `CustomerPayBillOnline` with `PartyB` equal to the shortcode. A till store
    (the Go-Live head-office number) takes `CustomerBuyGoodsOnline` with `PartyB` one of its
    `tills`; the Password is always built from the shortcode itself.
    """

    shortcode: str = Field(pattern=r"^\d{5,7}$")
    passkey: str = Field(min_length=1)
    kind: Literal["paybill", "till"] = "paybill"
    tills: list[str] = Field(default_factory=list)
    organization_name: str = "Simulated Business"
    opening_balance: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _till_store_has_tills(self) -> Self:
        if self.kind == "till" and not self.tills:
            self.tills = [self.shortcode]
        return self


DEFAULT_BLOCKED_WORDS = ["m-pesa", "mpesa", "safaricom", "exe", "exec", "cmd", "sql", "query"]


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SIMULATOR_")

    PORT: int = 8002

    # Every customer delay below is multiplied by TIME_SCALE; tests use a tiny scale. Validity
    # windows (token lifetime, the 2-minute duplicate rule, the 48-hour pull window) are not
    # delays and run on the simulator clock, which `/simulator/clock/advance` moves.
    TIME_SCALE: float = Field(default=1.0, gt=0)
    CUSTOMER_RESPONSE_DELAY_S: float = Field(default=5.0, ge=0)
    PROMPT_WINDOW_S: float = Field(default=60.0, gt=0)
    LONG_DELAY_S: float = Field(default=600.0, ge=0)
    SYSTEM_DELAY_S: float = Field(default=1.0, ge=0)
    SEED: int | None = None
    AUTO_RESPOND: bool = True

    APPS: list[App] = Field(
        default_factory=lambda: [
            # The documented default app of a simulator, not a secret.
            App(consumer_key="test-consumer-key", consumer_secret="test-consumer-secret")  # noqa: S106
        ],
        min_length=1,
    )
    SHORTCODES: list[Shortcode] = Field(
        default_factory=lambda: [
            Shortcode(
                shortcode="174379",
                passkey=SANDBOX_PASSKEY,
                organization_name="Simulated Paybill 174379",
            )
        ],
        min_length=1,
    )
    MODE: Mode = Mode.sandbox

    TOKEN_TTL_S: int = Field(default=3599, gt=0)
    TOKEN_EXPIRES_IN_AS_NUMBER: bool = False
    INVALIDATE_PREVIOUS_TOKEN: bool = True
    # Real reports disagree on a wrong consumer key/secret: the `400.008.01` envelope, or a
    # bare HTTP 400 with an empty body.
    OAUTH_BAD_CREDENTIALS_EMPTY_BODY: bool = False

    MIN_AMOUNT: int = Field(default=1, ge=1)
    MAX_AMOUNT: int = Field(default=250_000, ge=1)
    DUPLICATE_WINDOW_S: float = Field(default=120.0, ge=0)
    TIMESTAMP_MAX_SKEW_S: int | None = None
    CALLBACK_URL_BLOCKED_WORDS: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BLOCKED_WORDS)
    )

    QUERY_PENDING_STYLE: QueryPendingStyle = QueryPendingStyle.error
    CALLBACK_INCLUDE_BALANCE: bool = True
    CALLBACK_RETRIES: int = Field(default=0, ge=0)
    CALLBACK_RETRY_DELAY_S: float = Field(default=5.0, ge=0)
    CALLBACK_TIMEOUT_S: float = Field(default=10.0, gt=0)

    SPIKE_ARREST_RPS: int | None = Field(default=None, ge=1)
    QUOTA_REQUESTS: int | None = Field(default=None, ge=1)
    QUOTA_PERIOD_S: float = Field(default=86_400.0, gt=0)

    PULL_WINDOW_HOURS: int = Field(default=48, ge=1)
    PULL_PAGE_SIZE: int = Field(default=100, ge=1)
    STATEMENT_MASK_PHONES: bool = True
    REQUEST_LOG_LIMIT: int = Field(default=10_000, ge=1)

    # The stand-in mail server (SMTP, plain text on loopback) and SMS provider (Africa's
    # Talking's HTTP API). SMTP_PORT 0 takes any free port (tests read it back).
    SMTP_ENABLED: bool = True
    SMTP_HOST: str = "127.0.0.1"
    SMTP_PORT: int = Field(default=2525, ge=0, le=65535)
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    MAILBOX_LIMIT: int = Field(default=500, ge=1)
    SMS_USERNAME: str = "sandbox"
    SMS_API_KEY: str = "test-at-api-key"
    SMS_DELIVERY_REPORT_URL: str | None = (
        "http://127.0.0.1:8000/v1/notifications/sms/reports/dev-sms-report-token"
    )
    SMS_DELIVERY_DELAY_S: float = Field(default=2.0, ge=0)
    SMS_LIMIT: int = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.MIN_AMOUNT > self.MAX_AMOUNT:
            raise ValueError("SIMULATOR_MIN_AMOUNT must not exceed SIMULATOR_MAX_AMOUNT")
        codes = [s.shortcode for s in self.SHORTCODES]
        if len(codes) != len(set(codes)):
            raise ValueError("SIMULATOR_SHORTCODES lists a shortcode twice")
        keys = [a.consumer_key for a in self.APPS]
        if len(keys) != len(set(keys)):
            raise ValueError("SIMULATOR_APPS lists a consumer key twice")
        return self

    def shortcode(self, code: str) -> Shortcode | None:
        return next((s for s in self.SHORTCODES if s.shortcode == code), None)

    def merchant_for(self, number: str) -> Shortcode | None:
        """The shortcode that owns ``number``: the shortcode itself or one of its tills."""
        return next(
            (s for s in self.SHORTCODES if number == s.shortcode or number in s.tills), None
        )


settings = Settings()

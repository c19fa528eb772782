"""API shapes of `/v1/settings`: Daraja credentials (secrets masked), the connection test, the
production readiness checklist and the active environment."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from payment_gateway.models import DarajaEnvironment, ShortcodeType
from shared.schemas import StrictModel, Text

Actor = Field(
    min_length=1, max_length=64, description="Who asked (session-api passes the acting user)."
)


class DarajaCredentialsIn(StrictModel):
    """One environment's Daraja app and shortcode. Saved only once Daraja issued a token for
    them; the secrets are stored encrypted and never returned."""

    consumer_key: Text = Field(min_length=1, max_length=200)
    consumer_secret: Text = Field(min_length=1, max_length=200)
    shortcode: str = Field(pattern=r"^\d{5,7}$", description="The paybill or till number.")
    shortcode_type: ShortcodeType
    passkey: Text = Field(min_length=1, max_length=200)
    initiator_name: Text = Field(min_length=1, max_length=100)
    security_credential: Text = Field(min_length=1, max_length=2000)
    callback_base_url: Text = Field(
        max_length=300, description="The gateway's public base URL Daraja calls back on."
    )
    actor: Text = Actor

    @field_validator("callback_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("callback_base_url must start with https:// (http:// in sandbox)")
        return value.rstrip("/")


CredentialsSource = Literal["stored", "settings", "none"]


class DarajaCredentialsOut(BaseModel):
    """An environment's credentials as an admin may see them: each secret masked to its last 4
    characters (all of it hidden when it is shorter than 8)."""

    environment: DarajaEnvironment
    active: bool = Field(description="New payments are made in this environment.")
    source: CredentialsSource = Field(
        description="`stored` (encrypted in the database), `settings` (the bootstrap from "
        "GATEWAY_DARAJA_*), or `none`."
    )
    shortcode: str | None = None
    shortcode_type: ShortcodeType | None = None
    callback_base_url: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None
    passkey: str | None = None
    initiator_name: str | None = None
    security_credential: str | None = None
    key_id: str | None = Field(default=None, description="The key-encryption key's id.")
    updated_by: str | None = None
    updated_at: datetime | None = None
    tested_at: datetime | None = None
    test_passed: bool | None = None


class DarajaSettingsOut(BaseModel):
    active_environment: DarajaEnvironment
    environments: list[DarajaCredentialsOut]


class ConnectionStep(BaseModel):
    name: Literal["token", "stk_query"]
    ok: bool
    latency_ms: int | None = Field(description="None when the step was not reached.")
    detail: str


class ConnectionTest(BaseModel):
    environment: DarajaEnvironment
    ok: bool
    steps: list[ConnectionStep]


class TestRequest(StrictModel):
    actor: Text = Actor


class ReadinessItem(BaseModel):
    name: str
    ok: bool
    detail: str


class Readiness(BaseModel):
    """What production needs; the switch to production is refused unless every item is ok."""

    ready: bool
    items: list[ReadinessItem]


class EnvironmentSwitch(StrictModel):
    environment: DarajaEnvironment
    actor: Text = Actor


class EnvironmentOut(BaseModel):
    """The active environment and the shortcode payers pay to in it."""

    environment: DarajaEnvironment
    shortcode: str | None
    shortcode_type: ShortcodeType | None
    updated_by: str | None = None
    updated_at: datetime | None = None

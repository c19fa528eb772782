"""API shapes of `/v1/admin/settings`. Answers are the gateway's own views (secrets masked)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from session_api.integrations.gateway.schemas import (
    ActiveEnvironment,
    ConnectionTestResult,
    DarajaCredentialsView,
    DarajaSettingsView,
    ReadinessChecklist,
)
from shared.schemas import StrictModel, Text

PaymentEnvironment = Literal["sandbox", "production"]


class DarajaCredentialsUpdate(StrictModel):
    """One environment's Daraja app and shortcode. Saved only once Daraja has issued a token
    for them; the secrets are stored encrypted by the gateway and never shown again whole."""

    consumer_key: Text = Field(min_length=1, max_length=200)
    consumer_secret: Text = Field(min_length=1, max_length=200)
    shortcode: str = Field(pattern=r"^\d{5,7}$", description="The paybill or till number.")
    shortcode_type: Literal["paybill", "till"]
    passkey: Text = Field(min_length=1, max_length=200)
    initiator_name: Text = Field(min_length=1, max_length=100)
    security_credential: Text = Field(min_length=1, max_length=2000)
    callback_base_url: Text = Field(
        max_length=300,
        description="The gateway's public base URL Daraja calls back on (https in production).",
    )

    @field_validator("callback_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("callback_base_url must start with https:// (http:// in sandbox)")
        return value.rstrip("/")

    def for_gateway(self) -> dict[str, Any]:
        return self.model_dump()


class EnvironmentSwitchRequest(StrictModel):
    environment: PaymentEnvironment
    password: str = Field(
        min_length=1, max_length=256, description="The admin's own password, entered again."
    )


__all__ = [
    "ActiveEnvironment",
    "ConnectionTestResult",
    "DarajaCredentialsUpdate",
    "DarajaCredentialsView",
    "DarajaSettingsView",
    "EnvironmentSwitchRequest",
    "PaymentEnvironment",
    "ReadinessChecklist",
]

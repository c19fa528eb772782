from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from session_api.notification.preferences import Topic
from shared.schemas import StrictModel


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime


class DeliveryReportReceipt(BaseModel):
    known: bool = Field(description="whether the messageId is one of ours")
    status: str | None = Field(description="the delivery's status after the report")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: str
    kind: str
    subject: str | None
    status: str
    reason: str | None
    attempts: int
    sent_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class TopicPreference(BaseModel):
    topic: Topic
    description: str = ""
    email: bool = True
    sms: bool = True


class PreferencesOut(BaseModel):
    topics: list[TopicPreference]
    always_sent: str = Field(
        default="Payment confirmations with their receipts, failed payments and security notices "
        "always go; in-app notifications cannot be turned off."
    )


class PreferenceChange(StrictModel):
    topic: Topic
    email: bool | None = Field(default=None, description="omit to leave as it is")
    sms: bool | None = Field(default=None, description="omit to leave as it is")


class PreferencesIn(StrictModel):
    topics: list[PreferenceChange] = Field(min_length=1, max_length=len(Topic))

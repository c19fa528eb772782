from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from daraja_simulator.messaging.store import FailAt


class AttachmentView(BaseModel):
    filename: str
    content_type: str
    size: int
    url: str = Field(description="where to download it")


class EmailView(BaseModel):
    id: str
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    text: str
    html: str | None
    attachments: list[AttachmentView]
    received_at: datetime


class EmailList(BaseModel):
    emails: list[EmailView]


class RejectionIn(BaseModel):
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)


class RejectedAddresses(BaseModel):
    addresses: list[str]


class SmsView(BaseModel):
    id: str
    to: str
    sender_id: str | None
    message: str
    status_code: int
    status: str
    delivery_status: str | None
    failure_reason: str | None
    sent_at: datetime


class SmsList(BaseModel):
    messages: list[SmsView]


class SmsFailureIn(BaseModel):
    phone: str = Field(pattern=r"^\+254[17]\d{8}$", description="+2547XXXXXXXX")
    at: FailAt = Field(
        description="`send`: refused at once (statusCode 403); `delivery`: accepted, then "
        "reported Failed"
    )


class SmsFailures(BaseModel):
    failing: dict[str, FailAt]


class AtRecipient(BaseModel):
    statusCode: int
    number: str
    status: str
    cost: str
    messageId: str


class AtMessageData(BaseModel):
    Message: str
    Recipients: list[AtRecipient]


class AtSendResponse(BaseModel):
    SMSMessageData: AtMessageData

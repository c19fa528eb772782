"""Typed Daraja answers: snake_case fields, built from the wire by the client."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, coerce_numbers_to_str=True)


class StkPushAccepted(_Answer):
    """Daraja accepted the push for processing. Not a payment: the outcome comes later by
    callback or query."""

    merchant_request_id: str = Field(alias="MerchantRequestID", min_length=1)
    checkout_request_id: str = Field(alias="CheckoutRequestID", min_length=1)
    response_code: str = Field(alias="ResponseCode")
    response_description: str = Field(default="", alias="ResponseDescription")
    customer_message: str | None = Field(default=None, alias="CustomerMessage")


class StkQueryResult(_Answer):
    """What STK Query says about a push.

    ``pending`` answers (``4999``, ``500.001.1001`` "The transaction is being processed") carry
    ``result_code=None``; final answers carry Daraja's result code as a string (``"0"``,
    ``"1032"``, ``"E3008"``). A query never returns the receipt, amount or phone.
    """

    result_code: str | None
    result_desc: str
    pending: bool
    merchant_request_id: str | None = None
    checkout_request_id: str | None = None
    raw: dict[str, Any]


class ResultAck(_Answer):
    """The synchronous acknowledgement of a ResultURL API (Transaction Status): the result
    itself arrives later at the ResultURL."""

    originator_conversation_id: str | None = Field(default=None, alias="OriginatorConversationID")
    conversation_id: str | None = Field(default=None, alias="ConversationID")
    response_code: str = Field(alias="ResponseCode")
    response_description: str = Field(default="", alias="ResponseDescription")


class PullRegistration(_Answer):
    """The answer to a Pull Transactions registration: ``response_status`` ``"1000"`` registered
    now, ``"1001"`` registered before."""

    response_ref_id: str | None = Field(default=None, alias="ResponseRefID")
    response_status: str = Field(alias="ResponseStatus")
    short_code: str | None = Field(default=None, alias="ShortCode")
    response_description: str = Field(default="", alias="ResponseDescription")


class PullTransaction(BaseModel):
    """One C2B transaction from the Pull Transactions API."""

    model_config = ConfigDict(frozen=True)

    transaction_id: str
    transaction_date: datetime | None
    msisdn: str | None
    sender: str | None
    transaction_type: str | None
    bill_reference: str | None
    # Exact as sent ("168.00"); reconciliation compares it with whole-KES payments.
    amount: Decimal | None
    organization_name: str | None
    raw: dict[str, Any]


class PullTransactionsPage(BaseModel):
    """One page of Pull Transactions. ``response_code`` ``"1000"`` is success, ``"1001"`` means
    no transactions in the period (``transactions`` is then empty)."""

    model_config = ConfigDict(frozen=True)

    response_code: str
    response_message: str
    response_ref_id: str | None
    transactions: list[PullTransaction]
    raw: dict[str, Any]

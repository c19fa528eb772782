"""Transaction Status and Pull Transactions answers, with Daraja's field names on the wire."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class TransactionStatusAccepted(_Wire):
    """The request was accepted; the `Result` is POSTed to ResultURL (or QueueTimeOutURL)."""

    originator_conversation_id: str = Field(alias="OriginatorConversationID")
    conversation_id: str = Field(alias="ConversationID")
    response_code: str = Field(default="0", alias="ResponseCode")
    response_description: str = Field(
        default="Accept the service request successfully.", alias="ResponseDescription"
    )


class PullRegistered(_Wire):
    """`ResponseStatus` 1000: registered now; 1001: it already was."""

    response_ref_id: str = Field(alias="ResponseRefID")
    response_status: str = Field(alias="ResponseStatus")
    short_code: str = Field(alias="ShortCode")
    response_description: str = Field(alias="ResponseDescription")


class PullTransaction(_Wire):
    """One C2B transaction as Pull Transactions lists it (lowercase keys, string amount)."""

    transaction_id: str = Field(alias="transactionId")
    trx_date: str = Field(alias="trxDate")
    msisdn: int
    sender: str
    transaction_type: str = Field(alias="transactiontype")
    bill_reference: str = Field(alias="billreference")
    amount: str
    organization_name: str = Field(alias="organizationname")


class PullQueryResult(_Wire):
    """`ResponseCode` 1000 with a page of transactions (note the doubly nested array), or 1001
    when the period has none."""

    response_ref_id: str = Field(alias="ResponseRefID")
    response_code: str = Field(alias="ResponseCode")
    response_message: str = Field(alias="ResponseMessage")
    response: list[list[PullTransaction]] = Field(alias="Response")


TRANSACTION_STATUS_EXAMPLE = {
    "Initiator": "testapiuser",
    "SecurityCredential": "ClONZiMYBpc65lmpJ7nvnrDmUe0WvHvA5QbOsPjEo92B6IGFwDdvdeJIFL0kgwsEKWu6SQ",
    "CommandID": "TransactionStatusQuery",
    "TransactionID": "NEF61H8J60",
    "OriginalConversationID": "",
    "PartyA": "174379",
    "IdentifierType": "4",
    "ResultURL": "https://example.com/status/result",
    "QueueTimeOutURL": "https://example.com/status/timeout",
    "Remarks": "OK",
    "Occasion": "OK",
}
PULL_REGISTER_EXAMPLE = {
    "ShortCode": "174379",
    "RequestType": "Pull",
    "NominatedNumber": "0722000000",
    "CallBackURL": "https://example.com/pull",
}
PULL_QUERY_EXAMPLE = {
    "ShortCode": "174379",
    "StartDate": "2020-08-04 8:36:00",
    "EndDate": "2020-08-16 10:10:00",
    "OffSetValue": "0",
}

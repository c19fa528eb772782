"""Reversal's synchronous answer, with Daraja's field names on the wire."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReversalAccepted(BaseModel):
    """The request was accepted; the `Result` is POSTed to ResultURL (or QueueTimeOutURL)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    originator_conversation_id: str = Field(alias="OriginatorConversationID")
    conversation_id: str = Field(alias="ConversationID")
    response_code: str = Field(default="0", alias="ResponseCode")
    response_description: str = Field(
        default="Accept the service request successfully.", alias="ResponseDescription"
    )


REVERSAL_EXAMPLE = {
    "Initiator": "apiop37",
    "SecurityCredential": "jUb+dOXJiBDui8FnruaFckZJQup3kmmCH5XJ4NY/Oo3KaUTmJbxUiVgzBjqdL533u5Q",
    "CommandID": "TransactionReversal",
    "TransactionID": "PDU91HIVIT",
    "Amount": "200",
    "ReceiverParty": "174379",
    "RecieverIdentifierType": "11",
    "ResultURL": "https://mydomain.com/reversal/result",
    "QueueTimeOutURL": "https://mydomain.com/reversal/queue",
    "Remarks": "Payment reversal",
}

from __future__ import annotations

from typing import Any

import httpx

from session_api.integrations.delivery_errors import DeliveryError
from shared.http import KEEPALIVE_EXPIRY_S

# Recipient statusCode: 100 Processed, 101 Sent, 102 Queued are accepted. Of the refusals, these
# will not change by trying again; the rest (405 InsufficientBalance, 5xx) may.
ACCEPTED = {100, 101, 102}
PERMANENT = {401, 402, 403, 404, 406, 407, 409}


class SmsClient:
    def __init__(
        self,
        *,
        url: str,
        username: str,
        api_key: str,
        sender_id: str | None,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.username = username
        self.sender_id = sender_id
        self._http = httpx.AsyncClient(
            timeout=timeout_s,
            headers={"apiKey": api_key, "Accept": "application/json"},
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, *, to: str, message: str) -> str:
        """Send one SMS to ``to`` (+2547…); returns the provider's messageId."""
        form = {"username": self.username, "to": to, "message": message}
        if self.sender_id:
            form["from"] = self.sender_id
        try:
            response = await self._http.post(self.url, data=form)
        except httpx.HTTPError as e:
            raise DeliveryError(
                f"SMS provider unreachable: {type(e).__name__}", permanent=False
            ) from e
        if response.status_code >= 300:
            raise DeliveryError(
                f"SMS provider answered HTTP {response.status_code}", permanent=False
            )
        try:
            body: dict[str, Any] = response.json()
            recipient = body["SMSMessageData"]["Recipients"][0]
            code = int(recipient["statusCode"])
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise DeliveryError("SMS provider answered without a recipient", permanent=False) from e
        if code in ACCEPTED:
            return str(recipient["messageId"])
        raise DeliveryError(
            f"SMS refused: {code} {recipient.get('status', '')}".strip(),
            permanent=code in PERMANENT,
        )

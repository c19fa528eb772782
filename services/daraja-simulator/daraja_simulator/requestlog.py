"""Every request that reached a Daraja path, for tests to count and inspect."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Which Daraja API a path belongs to; the request log and its filters use these names.
APIS: dict[str, str] = {
    "/oauth/v1/generate": "oauth",
    "/mpesa/stkpush/v1/processrequest": "stk_push",
    "/mpesa/stkpushquery/v1/query": "stk_query",
    "/mpesa/transactionstatus/v1/query": "transaction_status",
    "/mpesa/reversal/v1/request": "reversal",
    "/pulltransactions/v1/register": "pull_register",
    "/pulltransactions/v1/query": "pull_query",
    "/mpesa/c2b/v1/registerurl": "c2b_register",
}

# The Password field is base64(shortcode + passkey + timestamp): storing it would store the
# passkey.
_HIDDEN_FIELDS = frozenset({"Password", "SecurityCredential"})


def api_name(path: str) -> str:
    return APIS.get(path, "unknown")


def redact(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: ("***" if k in _HIDDEN_FIELDS else v) for k, v in body.items()}
    return body


@dataclass
class RequestRecord:
    id: int
    at: datetime
    method: str
    path: str
    api: str
    query: str
    auth_scheme: str | None
    body: Any
    status: int | None = None
    fault: str | None = None


class RequestLog:
    def __init__(self, limit: int) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._next_id = 1

    def reset(self) -> None:
        self._records.clear()
        self._next_id = 1

    def add(
        self,
        *,
        at: datetime,
        method: str,
        path: str,
        query: str,
        auth_scheme: str | None,
        body: Any,
    ) -> RequestRecord:
        record = RequestRecord(
            id=self._next_id,
            at=at,
            method=method,
            path=path,
            api=api_name(path),
            query=query,
            auth_scheme=auth_scheme,
            body=redact(body),
        )
        self._next_id += 1
        self._records.append(record)
        return record

    def select(
        self, *, api: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[RequestRecord]:
        return [
            r
            for r in self._records
            if (api is None or r.api == api)
            and (path is None or r.path == path)
            and (status is None or r.status == status)
        ]

"""Issued access tokens, in memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Token:
    value: str
    consumer_key: str
    issued_at: datetime
    expires_at: datetime


class TokenStore:
    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def reset(self) -> None:
        self._tokens.clear()

    def issue(
        self,
        *,
        value: str,
        consumer_key: str,
        now: datetime,
        ttl_s: int,
        invalidate_previous: bool,
    ) -> Token:
        if invalidate_previous:
            self._tokens = {v: t for v, t in self._tokens.items() if t.consumer_key != consumer_key}
        token = Token(
            value=value,
            consumer_key=consumer_key,
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
        self._tokens[value] = token
        return token

    def valid(self, value: str, *, now: datetime) -> Token | None:
        token = self._tokens.get(value)
        if token is None or token.expires_at <= now:
            return None
        return token

    def invalidate_all(self) -> int:
        count = len(self._tokens)
        self._tokens.clear()
        return count

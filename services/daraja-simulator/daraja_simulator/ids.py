"""Identifiers shaped like the ones Daraja hands out (observed formats; Safaricom documents none).

- MerchantRequestID / requestId / OriginatorConversationID: a UUID without its first four hex
  digits, then a running counter: ``2654-4b64-97ff-b827b542881d3130``.
- CheckoutRequestID: ``ws_CO_`` + ``DDMMYYYYHHmmss`` + milliseconds + the MSISDN without
  ``254`` (Nairobi time): ``ws_CO_17112022155511840796440427``.
- MpesaReceiptNumber: ten uppercase characters; the first is the year (L = 2017, M = 2018, …),
  the second the month (A = January … L = December), the third the day (1-9, then A = 10 …
  V = 31): ``QKH94M1Z11`` is 17 November 2022.
- ConversationID: ``AG_YYYYMMDD_`` + 20 hex digits.

Every value comes from one seeded generator, so ``SIMULATOR_SEED`` makes a run reproducible.
"""

from __future__ import annotations

import random
import string
from datetime import datetime

from daraja_simulator.clock import NAIROBI

_LETTERS = string.ascii_uppercase
_DAY_CHARS = "123456789" + _LETTERS[:22]  # 1..9 then A (10) .. V (31)
_RECEIPT_TAIL = string.ascii_uppercase + string.digits
_TOKEN_CHARS = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, seed: int | None) -> None:
        # Not for secrets: the simulator's identifiers are meant to be reproducible from a seed.
        self._random = random.Random(seed)  # noqa: S311
        self._counter = self._random.randint(100_000, 2_000_000)
        self._issued_receipts: set[str] = set()

    def _hex(self, digits: int) -> str:
        return f"{self._random.getrandbits(digits * 4):0{digits}x}"

    def _next_counter(self) -> int:
        self._counter += 1
        return self._counter

    def request_id(self) -> str:
        return f"{self._hex(4)}-{self._hex(4)}-{self._hex(4)}-{self._hex(12)}{self._next_counter()}"

    def merchant_request_id(self) -> str:
        return self.request_id()

    def checkout_request_id(self, *, msisdn: str, at: datetime) -> str:
        local = at.astimezone(NAIROBI)
        millis = local.microsecond // 1000
        return f"ws_CO_{local:%d%m%Y%H%M%S}{millis:03d}{msisdn.removeprefix('254')}"

    def receipt(self, *, at: datetime) -> str:
        local = at.astimezone(NAIROBI)
        year = _LETTERS[(local.year - 2006) % 26]
        prefix = f"{year}{_LETTERS[local.month - 1]}{_DAY_CHARS[local.day - 1]}"
        while True:
            tail = "".join(self._random.choices(_RECEIPT_TAIL, k=7))
            receipt = prefix + tail
            if receipt not in self._issued_receipts:
                self._issued_receipts.add(receipt)
                return receipt

    def access_token(self) -> str:
        return "".join(self._random.choices(_TOKEN_CHARS, k=28))

    def conversation_id(self, *, at: datetime) -> str:
        return f"AG_{at.astimezone(NAIROBI):%Y%m%d}_{self._hex(20)}"

    def reference_id(self) -> str:
        return f"{self._hex(8)}-{self._hex(4)}-{self._hex(4)}-{self._hex(4)}-{self._hex(12)}"

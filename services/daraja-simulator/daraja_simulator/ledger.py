"""M-Pesa's own record: completed transactions only.

Transaction Status, Pull Transactions, the statement CSV and ``/simulator/ledger`` all answer
from here, which is what lets a reconciler find payments whose callback never came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

_FIRST_NAMES = ("JOHN", "JANE", "PETER", "MARY", "JAMES", "GRACE", "DAVID", "FAITH", "BRIAN")
_LAST_NAMES = ("KAMAU", "WANJIKU", "OTIENO", "ACHIENG", "MUTUA", "CHEBET", "KIPROP", "NJERI")

PAYBILL = "CustomerPayBillOnline"
BUY_GOODS = "CustomerBuyGoodsOnline"


def customer_name(phone: str) -> str:
    """A stable made-up registered name for a phone number."""
    number = int(phone)
    first = _FIRST_NAMES[number % len(_FIRST_NAMES)]
    return f"{first} {_LAST_NAMES[number // 7 % len(_LAST_NAMES)]}"


@dataclass(frozen=True)
class LedgerEntry:
    receipt: str
    amount: int
    phone: str
    customer_name: str
    shortcode: str
    party_b: str
    transaction_type: str
    account_reference: str
    description: str
    checkout_request_id: str
    merchant_request_id: str
    initiated_at: datetime
    completed_at: datetime
    balance_after: int


class Ledger:
    def __init__(self, opening_balances: dict[str, int]) -> None:
        self._opening = dict(opening_balances)
        self._balances = dict(opening_balances)
        self._entries: list[LedgerEntry] = []
        self._by_receipt: dict[str, LedgerEntry] = {}
        self._by_checkout: dict[str, LedgerEntry] = {}
        # Reversed receipts and the id of the reversal that undid each.
        self._reversals: dict[str, str] = {}

    def reset(self) -> None:
        self._balances = dict(self._opening)
        self._entries.clear()
        self._by_receipt.clear()
        self._by_checkout.clear()
        self._reversals.clear()

    def record(
        self,
        *,
        receipt: str,
        amount: int,
        phone: str,
        shortcode: str,
        party_b: str,
        transaction_type: str,
        account_reference: str,
        description: str,
        checkout_request_id: str,
        merchant_request_id: str,
        initiated_at: datetime,
        completed_at: datetime,
    ) -> LedgerEntry:
        balance = self._balances.get(shortcode, 0) + amount
        self._balances[shortcode] = balance
        entry = LedgerEntry(
            receipt=receipt,
            amount=amount,
            phone=phone,
            customer_name=customer_name(phone),
            shortcode=shortcode,
            party_b=party_b,
            transaction_type=transaction_type,
            account_reference=account_reference,
            description=description,
            checkout_request_id=checkout_request_id,
            merchant_request_id=merchant_request_id,
            initiated_at=initiated_at,
            completed_at=completed_at,
            balance_after=balance,
        )
        self._entries.append(entry)
        self._by_receipt[receipt] = entry
        self._by_checkout[checkout_request_id] = entry
        return entry

    def reverse(self, entry: LedgerEntry, *, reversal_id: str) -> int:
        """Give an entry's money back to its payer: the shortcode's balance after it."""
        self._reversals[entry.receipt] = reversal_id
        balance = self._balances.get(entry.shortcode, 0) - entry.amount
        self._balances[entry.shortcode] = balance
        return balance

    def reversal_of(self, receipt: str) -> str | None:
        return self._reversals.get(receipt)

    def balance(self, shortcode: str) -> int:
        return self._balances.get(shortcode, 0)

    def by_receipt(self, receipt: str) -> LedgerEntry | None:
        return self._by_receipt.get(receipt)

    def by_checkout(self, checkout_request_id: str) -> LedgerEntry | None:
        return self._by_checkout.get(checkout_request_id)

    def by_merchant_request(self, merchant_request_id: str) -> LedgerEntry | None:
        return next(
            (e for e in self._entries if e.merchant_request_id == merchant_request_id), None
        )

    def __len__(self) -> int:
        return len(self._entries)

    def select(
        self,
        *,
        shortcode: str | None = None,
        phone: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[LedgerEntry]:
        """Entries completed in ``[start, end]``, newest first (the statement order)."""
        return [
            e
            for e in reversed(self._entries)
            if (shortcode is None or shortcode in (e.shortcode, e.party_b))
            and (phone is None or e.phone == phone)
            and (start is None or e.completed_at >= start)
            and (end is None or e.completed_at <= end)
        ]

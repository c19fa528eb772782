"""Wallet balances and their ledger, and deposits paid by M-Pesa."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient
from session_api.models import (
    AttemptStatus,
    LedgerEntryKind,
    PayableType,
    PaymentAttempt,
    User,
    Wallet,
    WalletDeposit,
    WalletLedgerEntry,
)
from session_api.notification import service as notification_service
from session_api.payment import service as payment_service
from session_api.validation import mask_phone
from session_api.wallet.exceptions import DepositNotFound, InvalidDepositAmount
from session_api.wallet.repository import WalletRepository

log = structlog.get_logger(__name__)


async def ensure_wallet(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    await WalletRepository(session).ensure(user_id)


async def get_wallet(
    session: AsyncSession, *, user_id: uuid.UUID, for_update: bool = False
) -> Wallet:
    repository = WalletRepository(session)
    wallet = await repository.get_by_user(user_id, for_update=for_update)
    if wallet is None:
        # Accounts made before wallets existed (or by hand) get theirs on first use.
        await repository.ensure(user_id)
        wallet = await repository.get_by_user(user_id, for_update=for_update)
    assert wallet is not None
    return wallet


def payment_entry_key(gateway_payment_id: str) -> str:
    """One ledger entry per gateway payment, whatever it paid for."""
    return f"payment:{gateway_payment_id}"


async def credit(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    amount: int,
    kind: LedgerEntryKind,
    entry_key: str,
    description: str,
    reference_type: str | None = None,
    reference_id: uuid.UUID | None = None,
    receipt_number: str | None = None,
) -> bool:
    """Add `amount` to the user's wallet with its ledger entry, both in this transaction.

    False (and nothing changes) when an entry with `entry_key` exists: the wallet row lock makes
    concurrent credits of one key queue up, and the unique key lets only the first one in.
    """
    if amount <= 0:
        raise ValueError("a credit is a positive amount")
    wallet = await get_wallet(session, user_id=user_id, for_update=True)
    new_balance = wallet.balance + amount
    entry_id = await WalletRepository(session).insert_entry(
        {
            "wallet_id": wallet.id,
            "kind": kind,
            "amount": amount,
            "balance_after": new_balance,
            "entry_key": entry_key,
            "description": description,
            "reference_type": reference_type,
            "reference_id": reference_id,
            "receipt_number": receipt_number,
        }
    )
    if entry_id is None:
        log.info("wallet_credit_already_applied", entry_key=entry_key)
        return False
    wallet.balance = new_balance
    await session.flush()
    return True


async def create_deposit(
    session: AsyncSession,
    gateway: GatewayClient,
    settings: Settings,
    *,
    user: User,
    amount: int,
    phone: str,
    request_id: str | None = None,
) -> tuple[WalletDeposit, PaymentAttempt]:
    if not settings.DEPOSIT_MIN_KES <= amount <= settings.PAYMENT_MAX_KES:
        raise InvalidDepositAmount(
            f"amount: a deposit is between {settings.DEPOSIT_MIN_KES} and "
            f"{settings.PAYMENT_MAX_KES} KES; got {amount}"
        )
    # The wallet row lock is the deposit's lock: an event for this deposit's payment waits on it
    # until the deposit and its attempt are committed.
    wallet = await get_wallet(session, user_id=user.id, for_update=True)
    repository = WalletRepository(session)
    deposit = await repository.add_deposit(
        WalletDeposit(
            id=uuid.uuid4(),
            wallet_id=wallet.id,
            user_id=user.id,
            amount=amount,
            phone_masked=mask_phone(phone),
            status=AttemptStatus.processing,
        )
    )
    attempt = await payment_service.start_attempt(
        session,
        gateway,
        settings,
        payable=payment_service.Payable(
            type=PayableType.deposit,
            id=deposit.id,
            user_id=user.id,
            amount=amount,
            account_reference=f"WL{deposit.id.hex[:10].upper()}",
            description="Wallet top-up",
        ),
        phone=phone,
        request_id=request_id,
    )
    deposit.attempt_id = attempt.id
    await record_payment(session, deposit=deposit, attempt=attempt)
    return deposit, attempt


async def get_deposit(
    session: AsyncSession, *, deposit_id: uuid.UUID, user_id: uuid.UUID
) -> WalletDeposit:
    deposit = await WalletRepository(session).get_deposit(deposit_id, user_id=user_id)
    if deposit is None:
        raise DepositNotFound(f"no deposit {deposit_id} in your wallet")
    return deposit


async def lock_deposit_for_payment(
    session: AsyncSession, *, deposit_id: uuid.UUID, user_id: uuid.UUID
) -> WalletDeposit | None:
    await get_wallet(session, user_id=user_id, for_update=True)
    return await WalletRepository(session).get_deposit(deposit_id, user_id=user_id, for_update=True)


async def record_payment(
    session: AsyncSession, *, deposit: WalletDeposit, attempt: PaymentAttempt
) -> None:
    """Mirror the attempt's status on the deposit; credit the wallet once when it is paid."""
    deposit.status = attempt.status
    deposit.reason = attempt.reason
    if attempt.status is not AttemptStatus.paid:
        if attempt.status.is_final:
            await notification_service.notify(
                session,
                user_id=deposit.user_id,
                kind="deposit.failed",
                title="Deposit not completed",
                body=attempt.customer_message,
                data={"deposit_id": str(deposit.id), "reason": attempt.reason},
            )
        return
    deposit.receipt_number = attempt.receipt_number
    credited = await credit(
        session,
        user_id=deposit.user_id,
        amount=attempt.amount,
        kind=LedgerEntryKind.deposit,
        entry_key=payment_entry_key(attempt.gateway_payment_id),
        description=f"M-Pesa deposit{payment_service.receipt_note(attempt)}",
        reference_type=PayableType.deposit.value,
        reference_id=deposit.id,
        receipt_number=attempt.receipt_number,
    )
    if credited:
        deposit.credited_at = datetime.now(UTC)
        await notification_service.notify(
            session,
            user_id=deposit.user_id,
            kind="deposit.credited",
            title="Deposit received",
            body=f"KES {attempt.amount:,} was added to your wallet"
            f"{payment_service.receipt_note(attempt)}.",
            data={"deposit_id": str(deposit.id), "receipt_number": attempt.receipt_number},
        )


def deposits(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    statuses: list[AttemptStatus] | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> Select[WalletDeposit]:
    return WalletRepository(session).deposits(
        user_id, statuses=statuses, created_from=created_from, created_to=created_to
    )


async def ledger(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    created_from: datetime | None,
    created_to: datetime | None,
) -> Select[WalletLedgerEntry]:
    wallet = await get_wallet(session, user_id=user_id)
    return WalletRepository(session).entries(
        wallet.id, created_from=created_from, created_to=created_to
    )


@dataclass(frozen=True)
class Inconsistency:
    wallet_id: uuid.UUID
    balance: int
    ledger_sum: int


async def find_inconsistencies(session: AsyncSession) -> list[Inconsistency]:
    """Wallets whose balance is not the sum of their ledger entries (there should be none)."""
    return [
        Inconsistency(wallet_id=wallet_id, balance=balance, ledger_sum=total)
        for wallet_id, balance, total in await WalletRepository(session).inconsistent_wallets()
    ]

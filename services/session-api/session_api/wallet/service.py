"""Wallet balances and their ledger, and deposits paid by M-Pesa."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient, GatewayPayment
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
from session_api.models.notification_delivery import Channel
from session_api.notification import service as notification_service
from session_api.notification.content import Message
from session_api.pagination import PageParams
from session_api.payment import payable as payable_flow
from session_api.payment import service as payment_service
from session_api.payment.payable import PayableFlow
from session_api.payment.service import Charge, PayableRef
from session_api.wallet.exceptions import DepositNotFound, InvalidDepositAmount
from session_api.wallet.repository import (
    WalletDepositRepository,
    WalletLedgerEntryRepository,
    WalletRepository,
)

log = structlog.get_logger(__name__)


async def get_wallet(
    session: AsyncSession, *, user_id: uuid.UUID, for_update: bool = False
) -> Wallet:
    repository = WalletRepository.from_session(session)
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
    entry_id = await WalletLedgerEntryRepository.from_session(session).insert_entry(
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


async def keep_unapplied_payment(
    session: AsyncSession, *, attempt: PaymentAttempt, payable_state: str
) -> None:
    """Money that arrived for a booking or order that no longer needed it (paid by another
    attempt, or cancelled meanwhile) goes to the payer's wallet, once."""
    noun = attempt.payable_type.value
    log.warning(
        "payment_unapplied",
        payable_type=noun,
        payable_id=str(attempt.payable_id),
        attempt_id=str(attempt.id),
        payable_status=payable_state,
    )
    a_noun = f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"
    note = payment_service.receipt_note(attempt)
    if await credit(
        session,
        user_id=attempt.user_id,
        amount=attempt.amount,
        kind=LedgerEntryKind.unapplied_payment,
        entry_key=payment_entry_key(attempt.gateway_payment_id),
        description=f"Payment{note} for {a_noun} that no longer needed it",
        reference_type=noun,
        reference_id=attempt.payable_id,
        receipt_number=attempt.receipt_number,
    ):
        await notification_service.notify(
            session,
            user_id=attempt.user_id,
            kind="wallet.credited",
            title="Payment kept in your wallet",
            body=f"KES {attempt.amount:,}{note} arrived for {a_noun} that was {payable_state}; "
            "it is in your wallet.",
            data={f"{noun}_id": str(attempt.payable_id), "receipt_number": attempt.receipt_number},
        )


def refund_entry_key(gateway_payment_id: str) -> str:
    """One debit per refunded gateway payment."""
    return f"refund:{gateway_payment_id}"


async def take_back_refunded(session: AsyncSession, *, attempt: PaymentAttempt) -> bool:
    """A payment that credited the wallet (a deposit, or money kept for a payable that no longer
    needed it) was refunded to the payer's M-Pesa: debit the wallet by a new ledger entry, once.
    Entries are never edited, so the balance stays the sum of the entries. False when the payment
    never credited this wallet or its debit is recorded already."""
    ledger = WalletLedgerEntryRepository.from_session(session)
    wallet = await get_wallet(session, user_id=attempt.user_id, for_update=True)
    if not await ledger.exists(payment_entry_key(attempt.gateway_payment_id)):
        return False
    amount = min(attempt.amount, wallet.balance)
    if amount < attempt.amount:
        # Spent since it arrived: M-Pesa gave back more than the wallet still holds.
        log.error(
            "wallet_refund_exceeds_balance",
            wallet_id=str(wallet.id),
            attempt_id=str(attempt.id),
            refunded=attempt.amount,
            balance=wallet.balance,
        )
    if amount == 0:
        return False
    entry_id = await ledger.insert_entry(
        {
            "wallet_id": wallet.id,
            "kind": LedgerEntryKind.refund,
            "amount": -amount,
            "balance_after": wallet.balance - amount,
            "entry_key": refund_entry_key(attempt.gateway_payment_id),
            "description": f"Refund to M-Pesa{payment_service.receipt_note(attempt)}",
            "reference_type": attempt.payable_type.value,
            "reference_id": attempt.payable_id,
            "receipt_number": attempt.receipt_number,
        }
    )
    if entry_id is None:
        return False
    wallet.balance -= amount
    await session.flush()
    await notification_service.notify(
        session,
        user_id=attempt.user_id,
        kind="wallet.refunded",
        title="Wallet money refunded",
        body=f"KES {amount:,}{payment_service.receipt_note(attempt)} was refunded from your "
        "wallet to your M-Pesa account.",
        data={"attempt_id": str(attempt.id), "receipt_number": attempt.receipt_number},
    )
    return True


class DepositFlow(PayableFlow[WalletDeposit]):
    """A deposit exists only to be paid: it is made with its payment, and an event for a payment
    whose deposit was never recorded (the request died after the gateway answered) makes it."""

    type = PayableType.deposit

    async def lock(
        self, session: AsyncSession, ref: PayableRef, *, payment: GatewayPayment, phone_masked: str
    ) -> WalletDeposit:
        # The wallet row lock is the deposit's lock: the request and an event queue up on it.
        wallet = await get_wallet(session, user_id=ref.user_id, for_update=True)
        repository = WalletDepositRepository.from_session(session)
        deposit = await repository.get_deposit(ref.id, user_id=ref.user_id, for_update=True)
        if deposit is not None:
            return deposit
        return await repository.create(
            WalletDeposit(
                id=ref.id,
                wallet_id=wallet.id,
                user_id=ref.user_id,
                amount=payment.amount,
                phone_masked=phone_masked,
                status=AttemptStatus.processing,
            ),
            flush=True,
        )

    def attach(self, payable: WalletDeposit, attempt: PaymentAttempt) -> None:
        payable.attempt_id = attempt.id

    async def record(
        self, session: AsyncSession, payable: WalletDeposit, attempt: PaymentAttempt
    ) -> None:
        """Mirror the attempt's status on the deposit; credit the wallet once when it is paid."""
        payable.status = attempt.status
        payable.reason = attempt.reason
        if attempt.status is AttemptStatus.paid:
            await _credit_deposit(session, deposit=payable, attempt=attempt)
        elif attempt.status is AttemptStatus.refunded:
            await take_back_refunded(session, attempt=attempt)
        elif attempt.status.is_final:
            await notification_service.notify(
                session,
                user_id=payable.user_id,
                kind="deposit.failed",
                title="Deposit not completed",
                body=attempt.customer_message,
                data={"deposit_id": str(payable.id), "reason": attempt.reason},
            )


deposit_flow = DepositFlow()


async def create_deposit(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    settings: Settings,
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
    deposit_id = uuid.uuid4()
    return await payable_flow.pay(
        session,
        gateway=gateway,
        settings=settings,
        flow=deposit_flow,
        charge=Charge(
            type=PayableType.deposit,
            id=deposit_id,
            user_id=user.id,
            amount=amount,
            account_reference=PayableType.deposit.account_reference(deposit_id),
            description="Wallet top-up",
        ),
        phone=phone,
        request_id=request_id,
    )


async def get_deposit(
    session: AsyncSession, *, deposit_id: uuid.UUID, user_id: uuid.UUID
) -> WalletDeposit:
    deposit = await WalletDepositRepository.from_session(session).get_deposit(
        deposit_id, user_id=user_id
    )
    if deposit is None:
        raise DepositNotFound(f"no deposit {deposit_id} in your wallet")
    return deposit


async def _credit_deposit(
    session: AsyncSession, *, deposit: WalletDeposit, attempt: PaymentAttempt
) -> None:
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
        await notification_service.announce(
            session,
            event_key=f"deposit.credited:{deposit.id}",
            user_id=deposit.user_id,
            channels=(notification_service.IN_APP, Channel.sms),
            message=Message(
                kind="deposit.credited",
                title="Deposit received",
                body=f"KES {attempt.amount:,} was added to your wallet"
                f"{payment_service.receipt_note(attempt)}.",
                data={"deposit_id": str(deposit.id), "receipt_number": attempt.receipt_number},
            ),
        )


async def deposits(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    statuses: list[AttemptStatus] | None,
    created_from: datetime | None,
    created_to: datetime | None,
    page: PageParams,
) -> tuple[list[WalletDeposit], int]:
    return await WalletDepositRepository.from_session(session).deposits(
        user_id, statuses=statuses, created_from=created_from, created_to=created_to, page=page
    )


async def ledger(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    created_from: datetime | None,
    created_to: datetime | None,
    page: PageParams,
) -> tuple[list[WalletLedgerEntry], int]:
    wallet = await get_wallet(session, user_id=user_id)
    return await WalletLedgerEntryRepository.from_session(session).entries(
        wallet.id, created_from=created_from, created_to=created_to, page=page
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
        for wallet_id, balance, total in await WalletRepository.from_session(
            session
        ).inconsistent_wallets()
    ]

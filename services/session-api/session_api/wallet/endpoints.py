from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from session_api.auth.dependencies import CurrentUser
from session_api.auth.exceptions import NotAuthenticated
from session_api.dependencies import GatewayDep, RequestIdDep, SessionDep, SettingsDep
from session_api.models import AttemptStatus, PaymentAttempt, Wallet, WalletDeposit
from session_api.pagination import Page, PageDep, page_of
from session_api.payment.exceptions import (
    PaymentBlocked,
    PaymentRejected,
    PaymentsUnavailable,
)
from session_api.ratelimit import PaymentRateLimit
from session_api.wallet import service as wallet_service
from session_api.wallet.exceptions import DepositNotFound, InvalidDepositAmount
from session_api.wallet.schemas import (
    DepositCreated,
    DepositOut,
    DepositRequest,
    LedgerEntryOut,
    WalletOut,
)
from shared.errors import responses
from shared.ratelimit import TooManyRequests
from shared.schemas import Timestamp

router = APIRouter(tags=["wallet"])


@router.get("/v1/wallet", response_model=WalletOut, responses=responses(NotAuthenticated))
async def get_wallet(user: CurrentUser, session: SessionDep) -> Wallet:
    """Your wallet balance in KES."""
    return await wallet_service.get_wallet(session, user_id=user.id)


@router.post(
    "/v1/wallet/deposits",
    response_model=DepositCreated,
    status_code=status.HTTP_201_CREATED,
    responses=responses(
        NotAuthenticated,
        InvalidDepositAmount,
        PaymentBlocked,
        PaymentRejected,
        PaymentsUnavailable,
        TooManyRequests,
    ),
    dependencies=[PaymentRateLimit],
)
async def create_deposit(
    body: DepositRequest,
    user: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> tuple[WalletDeposit, PaymentAttempt]:
    """Top up your wallet with M-Pesa: a PIN prompt goes to `phone` right away."""
    return await wallet_service.create_deposit(
        session,
        gateway=gateway,
        settings=settings,
        user=user,
        amount=body.amount,
        phone=body.phone,
        request_id=request_id,
    )


@router.get(
    "/v1/wallet/deposits/{deposit_id}",
    response_model=DepositOut,
    responses=responses(NotAuthenticated, DepositNotFound),
)
async def get_deposit(
    deposit_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> WalletDeposit:
    """One of your deposits."""
    return await wallet_service.get_deposit(session, deposit_id=deposit_id, user_id=user.id)


@router.get(
    "/v1/wallet/transactions",
    response_model=Page[DepositOut],
    responses=responses(NotAuthenticated),
)
async def list_deposits(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[list[AttemptStatus] | None, Query(alias="status")] = None,
    created_from: Annotated[Timestamp | None, Query()] = None,
    created_to: Annotated[Timestamp | None, Query()] = None,
) -> Page[DepositOut]:
    """Your deposits with their status, newest first."""
    result = await wallet_service.deposits(
        session,
        user_id=user.id,
        statuses=status_,
        created_from=created_from,
        created_to=created_to,
        page=page,
    )
    return page_of(DepositOut, result, page)


@router.get(
    "/v1/wallet/ledger",
    response_model=Page[LedgerEntryOut],
    responses=responses(NotAuthenticated),
)
async def list_ledger(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    created_from: Annotated[Timestamp | None, Query()] = None,
    created_to: Annotated[Timestamp | None, Query()] = None,
) -> Page[LedgerEntryOut]:
    """Every change to your balance, with the balance after it, newest first."""
    result = await wallet_service.ledger(
        session, user_id=user.id, created_from=created_from, created_to=created_to, page=page
    )
    return page_of(LedgerEntryOut, result, page)

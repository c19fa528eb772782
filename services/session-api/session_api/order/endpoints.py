from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from session_api.auth.dependencies import CurrentAdmin, CurrentUser
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import GatewayDep, RequestIdDep, SessionDep, SettingsDep
from session_api.models import Order, OrderStatus, PayableStatus, PayableType, PaymentAttempt
from session_api.order import service as order_service
from session_api.order.dependencies import AdminLockedOrderDep, LockedOrderDep, OrderDep
from session_api.order.exceptions import InvalidOrder, OrderNotFound, OrderStateConflict
from session_api.order.schemas import OrderCreate, OrderOut, OrderStatusUpdate
from session_api.pagination import Page, PageDep, page_of
from session_api.payment import service as payment_service
from session_api.payment.exceptions import (
    AlreadyPaid,
    PaymentBlocked,
    PaymentInProgress,
    PaymentRejected,
    PaymentsUnavailable,
)
from session_api.payment.schemas import AttemptOut, PayRequest
from session_api.ratelimit import PaymentRateLimit
from shared.errors import responses
from shared.ratelimit import TooManyRequests
from shared.schemas import Timestamp

router = APIRouter(tags=["shop"])


@router.post(
    "/v1/orders",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(NotAuthenticated, InvalidOrder),
)
async def create_order(
    body: OrderCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Order:
    """Place an order at today's prices plus the delivery fee; pay it next."""
    return await order_service.create_order(session, settings=settings, user=user, request=body)


@router.get("/v1/orders", response_model=Page[OrderOut], responses=responses(NotAuthenticated))
async def list_orders(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[list[OrderStatus] | None, Query(alias="status")] = None,
    payment_status: Annotated[list[PayableStatus] | None, Query()] = None,
    created_from: Annotated[Timestamp | None, Query()] = None,
    created_to: Annotated[Timestamp | None, Query()] = None,
) -> Page[OrderOut]:
    """Your orders (all for an admin), newest first."""
    result = await order_service.owned(
        session,
        user=user,
        statuses=status_,
        payment_statuses=payment_status,
        created_from=created_from,
        created_to=created_to,
        page=page,
    )
    return page_of(OrderOut, result, page)


@router.get(
    "/v1/orders/{order_id}",
    response_model=OrderOut,
    responses=responses(NotAuthenticated, OrderNotFound),
)
async def get_order(order: OrderDep) -> Order:
    """One of your orders with its items, total and payment."""
    return order


@router.post(
    "/v1/orders/{order_id}/pay",
    response_model=AttemptOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(
        NotAuthenticated,
        OrderNotFound,
        OrderStateConflict,
        PaymentInProgress,
        AlreadyPaid,
        PaymentBlocked,
        PaymentRejected,
        PaymentsUnavailable,
        TooManyRequests,
    ),
    dependencies=[PaymentRateLimit],
)
async def pay_order(
    body: PayRequest,
    order: OrderDep,
    user: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> PaymentAttempt:
    """Pay for your pending order with M-Pesa: a PIN prompt goes to `phone`."""
    return await order_service.pay(
        session,
        gateway=gateway,
        settings=settings,
        order=order,
        user=user,
        phone=body.phone,
        request_id=request_id,
    )


@router.post(
    "/v1/orders/{order_id}/cancel",
    response_model=OrderOut,
    responses=responses(NotAuthenticated, OrderNotFound, OrderStateConflict),
)
async def cancel_order(order: LockedOrderDep, user: CurrentUser, session: SessionDep) -> Order:
    """Cancel your order before it is paid."""
    return await order_service.cancel(session, order=order, user=user)


@router.get(
    "/v1/orders/{order_id}/payments",
    response_model=list[AttemptOut],
    responses=responses(NotAuthenticated, OrderNotFound),
)
async def order_payments(order: OrderDep, session: SessionDep) -> list[PaymentAttempt]:
    """Every payment attempt for the order, oldest first."""
    return await payment_service.attempts_for(
        session, payable_type=PayableType.order, payable_id=order.id
    )


@router.post(
    "/v1/admin/orders/{order_id}/status",
    response_model=OrderOut,
    responses=responses(NotAuthenticated, RoleRequired, OrderNotFound, OrderStateConflict),
)
async def advance_order(
    body: OrderStatusUpdate, order: AdminLockedOrderDep, admin: CurrentAdmin, session: SessionDep
) -> Order:
    """Move a paid order to its next fulfilment step (admins only)."""
    return await order_service.advance(session, order=order, to=body.status, actor=admin)

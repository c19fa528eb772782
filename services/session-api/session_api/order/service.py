"""Orders: `pending → paid → processing → shipped → delivered`, or `cancelled` before payment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient
from session_api.models import (
    AttemptStatus,
    LedgerEntryKind,
    Order,
    OrderItem,
    OrderStatus,
    PayableStatus,
    PayableType,
    PaymentAttempt,
    User,
    UserRole,
)
from session_api.notification import service as notification_service
from session_api.order.exceptions import InvalidOrder, OrderNotFound, OrderStateConflict
from session_api.order.repository import OrderRepository
from session_api.order.schemas import OrderCreate
from session_api.payment import service as payment_service
from session_api.product import service as product_service
from session_api.wallet import service as wallet_service

log = structlog.get_logger(__name__)

# What staff may move a paid order to, from each status.
FULFILMENT_STEPS = {
    OrderStatus.paid: OrderStatus.processing,
    OrderStatus.processing: OrderStatus.shipped,
    OrderStatus.shipped: OrderStatus.delivered,
}


def delivery_fee(settings: Settings, *, method: str, subtotal: int) -> int:
    if method == "pickup":
        return 0
    if settings.FREE_DELIVERY_FROM_KES is not None and subtotal >= settings.FREE_DELIVERY_FROM_KES:
        return 0
    return settings.DELIVERY_FEE_KES


async def create_order(
    session: AsyncSession, settings: Settings, *, user: User, request: OrderCreate
) -> Order:
    products = await product_service.products_by_id(
        session, (item.product_id for item in request.items)
    )
    lines: list[OrderItem] = []
    for position, item in enumerate(request.items):
        product = products.get(item.product_id)
        if product is None:
            raise InvalidOrder(
                f"items[{position}].product_id: no product {item.product_id} on sale"
            )
        # Name and price are copied: the order keeps what the customer agreed to pay even if the
        # product changes later.
        lines.append(
            OrderItem(
                id=uuid.uuid4(),
                position=position,
                product_id=product.id,
                product_name=product.name,
                unit_price=product.price,
                quantity=item.quantity,
                line_total=product.price * item.quantity,
            )
        )
    subtotal = sum(line.line_total for line in lines)
    fee = delivery_fee(settings, method=request.delivery.method, subtotal=subtotal)
    total = subtotal + fee
    if total > settings.PAYMENT_MAX_KES:
        raise InvalidOrder(
            f"items: the total of KES {total:,} is above the KES {settings.PAYMENT_MAX_KES:,} one "
            "M-Pesa payment can carry; split the order"
        )
    order = Order(
        id=uuid.uuid4(),
        user_id=user.id,
        status=OrderStatus.pending,
        subtotal=subtotal,
        delivery_fee=fee,
        total=total,
        delivery=request.delivery.model_dump(mode="json"),
        customer=request.customer.model_dump(mode="json"),
        payment_status=PayableStatus.unpaid,
        items=lines,
    )
    return await OrderRepository(session).add(order)


async def get_order(
    session: AsyncSession, *, order_id: uuid.UUID, user: User, for_update: bool = False
) -> Order:
    owner = None if user.role is UserRole.admin else user.id
    order = await OrderRepository(session).get(order_id, user_id=owner, for_update=for_update)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    return order


async def pay(
    session: AsyncSession,
    gateway: GatewayClient,
    settings: Settings,
    *,
    order: Order,
    user: User,
    phone: str,
    request_id: str | None = None,
) -> PaymentAttempt:
    """Start an M-Pesa payment for a pending order. `order` is locked by the caller."""
    if order.user_id != user.id:
        raise OrderNotFound(f"no order {order.id}")
    if order.status is not OrderStatus.pending:
        raise OrderStateConflict(
            f"this order is {order.status.value}; only a pending order can be paid"
        )
    attempt = await payment_service.start_attempt(
        session,
        gateway,
        settings,
        payable=payment_service.Payable(
            type=PayableType.order,
            id=order.id,
            user_id=user.id,
            amount=order.total,
            account_reference=f"OR{order.id.hex[:10].upper()}",
            description="Shop order",
        ),
        phone=phone,
        request_id=request_id,
    )
    order.last_attempt_id = attempt.id
    await record_payment(session, order=order, attempt=attempt)
    return attempt


async def cancel(session: AsyncSession, *, order: Order, user: User) -> Order:
    if order.user_id != user.id:
        raise OrderNotFound(f"no order {order.id}")
    if order.status is not OrderStatus.pending:
        raise OrderStateConflict(
            f"this order is {order.status.value}; only a pending order can be cancelled"
        )
    if order.payment_status is PayableStatus.processing:
        raise OrderStateConflict(
            "a payment for this order is waiting on your phone; cancel the M-Pesa prompt or let "
            "it finish first"
        )
    order.status = OrderStatus.cancelled
    order.cancelled_at = datetime.now(UTC)
    await session.flush()
    return order


async def advance(session: AsyncSession, *, order: Order, to: OrderStatus) -> Order:
    """Staff move a paid order along fulfilment, one step at a time."""
    if FULFILMENT_STEPS.get(order.status) is not to:
        raise OrderStateConflict(
            f"an order that is {order.status.value} cannot become {to.value}"
            + (
                f"; next is {FULFILMENT_STEPS[order.status].value}"
                if order.status in FULFILMENT_STEPS
                else ""
            )
        )
    order.status = to
    await notification_service.notify(
        session,
        user_id=order.user_id,
        kind=f"order.{to.value}",
        title=f"Order {to.value}",
        body=f"Your order of KES {order.total:,} is now {to.value}.",
        data={"order_id": str(order.id)},
    )
    await session.flush()
    return order


async def lock_for_payment(session: AsyncSession, *, order_id: uuid.UUID) -> Order | None:
    return await OrderRepository(session).lock(order_id)


async def record_payment(session: AsyncSession, *, order: Order, attempt: PaymentAttempt) -> None:
    """Reflect a payment attempt's new status on its order; money for an order that no longer
    needs it (cancelled, or paid by another attempt) goes to the customer's wallet."""
    if attempt.status is AttemptStatus.paid:
        if order.status is OrderStatus.pending:
            order.status = OrderStatus.paid
            order.payment_status = PayableStatus.paid
            order.payment_reason = None
            order.receipt_number = attempt.receipt_number
            order.paid_at = attempt.paid_at or datetime.now(UTC)
            order.last_attempt_id = attempt.id
            await notification_service.notify(
                session,
                user_id=order.user_id,
                kind="order.paid",
                title="Order paid",
                body=f"Payment of KES {order.total:,} received"
                f"{payment_service.receipt_note(attempt)}. We are preparing your order.",
                data={"order_id": str(order.id), "receipt_number": attempt.receipt_number},
            )
        elif order.last_attempt_id == attempt.id and order.payment_status is PayableStatus.paid:
            order.receipt_number = order.receipt_number or attempt.receipt_number
        else:
            await _keep_unapplied_payment(session, order=order, attempt=attempt)
        return
    if order.payment_status is PayableStatus.paid:
        return
    if order.last_attempt_id in (None, attempt.id):
        order.last_attempt_id = attempt.id
        order.payment_status = PayableStatus(attempt.status.value)
        order.payment_reason = attempt.reason
    if attempt.status.is_final:
        await notification_service.notify(
            session,
            user_id=order.user_id,
            kind="payment.failed",
            title="Payment not completed",
            body=f"{attempt.customer_message} Your order is still waiting; you can pay again.",
            data={"order_id": str(order.id), "reason": attempt.reason},
        )


async def _keep_unapplied_payment(
    session: AsyncSession, *, order: Order, attempt: PaymentAttempt
) -> None:
    log.warning(
        "order_payment_unapplied",
        order_id=str(order.id),
        attempt_id=str(attempt.id),
        order_status=order.status.value,
    )
    if await wallet_service.credit(
        session,
        user_id=attempt.user_id,
        amount=attempt.amount,
        kind=LedgerEntryKind.unapplied_payment,
        entry_key=wallet_service.payment_entry_key(attempt.gateway_payment_id),
        description=f"Payment{payment_service.receipt_note(attempt)} for an order that no "
        "longer needed it",
        reference_type=PayableType.order.value,
        reference_id=order.id,
        receipt_number=attempt.receipt_number,
    ):
        await notification_service.notify(
            session,
            user_id=attempt.user_id,
            kind="wallet.credited",
            title="Payment kept in your wallet",
            body=f"KES {attempt.amount:,}{payment_service.receipt_note(attempt)} arrived for an "
            f"order that was {order.status.value}; it is in your wallet.",
            data={"order_id": str(order.id), "receipt_number": attempt.receipt_number},
        )


def owned(
    session: AsyncSession,
    *,
    user: User,
    statuses: list[OrderStatus] | None,
    payment_statuses: list[PayableStatus] | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> Select[Order]:
    return OrderRepository(session).owned(
        user_id=None if user.role is UserRole.admin else user.id,
        statuses=statuses,
        payment_statuses=payment_statuses,
        created_from=created_from,
        created_to=created_to,
    )

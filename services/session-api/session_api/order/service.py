"""Orders: `pending → paid → processing → shipped → delivered`, or `cancelled` before payment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient
from session_api.models import (
    Order,
    OrderItem,
    OrderStatus,
    PayableStatus,
    PayableType,
    PaymentAttempt,
    User,
    UserRole,
)
from session_api.models.notification_delivery import Channel
from session_api.notification import service as notification_service
from session_api.notification.content import Message
from session_api.order.exceptions import InvalidOrder, OrderNotFound, OrderStateConflict
from session_api.order.repository import OrderRepository
from session_api.order.schemas import OrderCreate
from session_api.pagination import PageParams
from session_api.payment import payable as payable_flow
from session_api.payment import service as payment_service
from session_api.payment.payable import BilledFlow
from session_api.product import service as product_service
from session_api.user import service as user_service
from session_api.wallet import service as wallet_service

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
    session: AsyncSession, *, settings: Settings, user: User, request: OrderCreate
) -> Order:
    products = await product_service.products_by_id(
        session, product_ids=(item.product_id for item in request.items)
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
    return await OrderRepository.from_session(session).create(order, flush=True)


async def get_order(
    session: AsyncSession, *, order_id: uuid.UUID, user: User, for_update: bool = False
) -> Order:
    owner = None if user.role is UserRole.admin else user.id
    order = await OrderRepository.from_session(session).get_owned(
        order_id, user_id=owner, for_update=for_update
    )
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    return order


async def pay(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    settings: Settings,
    order: Order,
    user: User,
    phone: str,
    request_id: str | None = None,
) -> PaymentAttempt:
    """Start an M-Pesa payment for a pending order."""
    if order.user_id != user.id:
        raise OrderNotFound(f"no order {order.id}")
    if order.status is not OrderStatus.pending:
        raise OrderStateConflict(
            f"this order is {order.status.value}; only a pending order can be paid"
        )
    _, attempt = await payable_flow.pay(
        session,
        gateway=gateway,
        settings=settings,
        flow=flow,
        charge=flow.charge(order),
        phone=phone,
        request_id=request_id,
    )
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


async def advance(session: AsyncSession, *, order: Order, to: OrderStatus, actor: User) -> Order:
    """Staff move a paid order along fulfilment, one step at a time (audited)."""
    if FULFILMENT_STEPS.get(order.status) is not to:
        raise OrderStateConflict(
            f"an order that is {order.status.value} cannot become {to.value}"
            + (
                f"; next is {FULFILMENT_STEPS[order.status].value}"
                if order.status in FULFILMENT_STEPS
                else ""
            )
        )
    await audit.record(
        session,
        action="order.status_changed",
        actor=audit.actor_of(actor),
        subject=f"order:{order.id}",
        details={"from": order.status, "to": to, "role": actor.role},
    )
    order.status = to
    await notification_service.announce(
        session,
        event_key=f"order.{to.value}:{order.id}",
        user_id=order.user_id,
        channels=(notification_service.IN_APP, Channel.email),
        message=Message(
            kind=f"order.{to.value}",
            title=f"Order {to.value}",
            body=f"Your order of KES {order.total:,} is now {to.value}.",
            data={"order_id": str(order.id)},
            details=(("Order", _reference(order)), ("Total", f"KES {order.total:,}")),
        ),
    )
    await session.flush()
    return order


class OrderFlow(BilledFlow[Order]):
    """Paid moves a pending order on to fulfilment."""

    type = PayableType.order
    repository = OrderRepository
    description = "Shop order"

    def price(self, payable: Order) -> tuple[uuid.UUID, int]:
        return payable.user_id, payable.total

    def awaits_payment(self, payable: Order) -> bool:
        return payable.status is OrderStatus.pending

    def still_payable(self, payable: Order) -> str:
        return "Your order is still waiting; you can pay again."

    async def settle(self, session: AsyncSession, payable: Order, attempt: PaymentAttempt) -> None:
        payable.status = OrderStatus.paid
        payable.payment_status = PayableStatus.paid
        payable.payment_reason = None
        payable.receipt_number = attempt.receipt_number
        payable.paid_at = attempt.paid_at or datetime.now(UTC)
        payable.last_attempt_id = attempt.id
        data = {"order_id": str(payable.id), "receipt_number": attempt.receipt_number}
        details = (("Order", _reference(payable)), ("Total", f"KES {payable.total:,}"))
        note = payment_service.receipt_note(attempt)
        await notification_service.announce(
            session,
            event_key=f"order.paid:{payable.id}",
            user_id=payable.user_id,
            channels=(notification_service.IN_APP, Channel.email),
            receipt_attempt_id=attempt.id,
            message=Message(
                kind="order.paid",
                title="Order paid",
                body=f"Payment of KES {payable.total:,} received{note}. We are preparing your "
                "order.",
                data=data,
                details=details,
                paragraphs=("Your receipt is attached.",),
            ),
        )
        for staff_id in await user_service.staff_ids(session):
            await notification_service.announce(
                session,
                event_key=f"order.paid.staff:{payable.id}",
                user_id=staff_id,
                channels=(notification_service.IN_APP, Channel.email),
                message=Message(
                    kind="order.paid.staff",
                    title="New paid order",
                    body=f"Order {_reference(payable)} of KES {payable.total:,} is paid{note}; "
                    "it is ready to prepare.",
                    data=data,
                    details=details,
                ),
            )

    async def refunded(
        self, session: AsyncSession, payable: Order, attempt: PaymentAttempt
    ) -> None:
        payable.status = OrderStatus.refunded
        await super().refunded(session, payable, attempt)


def _reference(order: Order) -> str:
    return PayableType.order.account_reference(order.id)


flow = OrderFlow(
    keep_unapplied=wallet_service.keep_unapplied_payment,
    take_back_unapplied=wallet_service.take_back_refunded,
)


async def owned(
    session: AsyncSession,
    *,
    user: User,
    statuses: list[OrderStatus] | None,
    payment_statuses: list[PayableStatus] | None,
    created_from: datetime | None,
    created_to: datetime | None,
    page: PageParams,
) -> tuple[list[Order], int]:
    everyone = user.role is UserRole.admin
    result = await OrderRepository.from_session(session).owned(
        user_id=None if everyone else user.id,
        statuses=statuses,
        payment_statuses=payment_statuses,
        created_from=created_from,
        created_to=created_to,
        page=page,
    )
    if everyone:
        await audit.record(
            session,
            action="order.listed",
            actor=audit.actor_of(user),
            details={
                "role": user.role,
                "filters": {
                    "status": statuses,
                    "payment_status": payment_statuses,
                    "created_from": created_from,
                    "created_to": created_to,
                },
                "page": page.page,
                "page_size": page.page_size,
                "shown": len(result[0]),
            },
        )
    return result

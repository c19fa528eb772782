from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from session_api.models import Order, OrderStatus, PayableStatus
from session_api.validation import Email, KenyanPhone
from shared.schemas import MultilineText, StrictModel, Text

MAX_QUANTITY = 100


class OrderItemIn(StrictModel):
    product_id: uuid.UUID
    quantity: int = Field(strict=True, ge=1, le=MAX_QUANTITY)


class Delivery(StrictModel):
    method: Literal["delivery", "pickup"] = "delivery"
    address: MultilineText | None = Field(default=None, min_length=3, max_length=300)
    city: Text | None = Field(default=None, min_length=2, max_length=100)
    notes: MultilineText = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _address_for_delivery(self) -> Self:
        if self.method == "delivery" and (not self.address or not self.city):
            raise ValueError("address and city are required when method is delivery")
        return self


class Customer(StrictModel):
    name: Text = Field(min_length=1, max_length=120)
    phone: KenyanPhone
    email: Email | None = None


class OrderCreate(StrictModel):
    items: list[OrderItemIn] = Field(min_length=1, max_length=50)
    delivery: Delivery
    customer: Customer

    @model_validator(mode="after")
    def _each_product_once(self) -> Self:
        seen: set[uuid.UUID] = set()
        for item in self.items:
            if item.product_id in seen:
                raise ValueError(
                    f"items: product {item.product_id} is listed twice; set its quantity instead"
                )
            seen.add(item.product_id)
        return self


class OrderStatusUpdate(StrictModel):
    status: Literal[OrderStatus.processing, OrderStatus.shipped, OrderStatus.delivered]


class OrderItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: uuid.UUID
    product_name: str
    unit_price: int
    quantity: int
    line_total: int


class OrderPayment(BaseModel):
    status: PayableStatus
    receipt_number: str | None
    paid_at: datetime | None
    reason: str | None
    last_attempt_id: uuid.UUID | None


class OrderOut(BaseModel):
    id: uuid.UUID
    status: OrderStatus
    items: list[OrderItemOut]
    subtotal: int
    delivery_fee: int
    total: int
    currency: Literal["KES"] = "KES"
    delivery: dict[str, Any]
    customer: dict[str, Any]
    payment: OrderPayment
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_order(cls, value: Any) -> Any:
        """An Order row: its payment columns become `payment`."""
        if not isinstance(value, Order):
            return value
        return {
            "id": value.id,
            "status": value.status,
            "items": [OrderItemOut.model_validate(item) for item in value.items],
            "subtotal": value.subtotal,
            "delivery_fee": value.delivery_fee,
            "total": value.total,
            "delivery": value.delivery,
            "customer": value.customer,
            "payment": OrderPayment(
                status=value.payment_status,
                receipt_number=value.receipt_number,
                paid_at=value.paid_at,
                reason=value.payment_reason,
                last_attempt_id=value.last_attempt_id,
            ),
            "created_at": value.created_at,
            "updated_at": value.updated_at,
        }

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shared.settings import Environment


class AppConfig(BaseModel):
    """What the web app needs to know about this deployment before anyone signs in."""

    environment: Literal["sandbox", "production"] = Field(
        description="Where payments are made: M-Pesa's sandbox or production (admins switch it)."
    )
    test_mode: bool = Field(
        description="True unless payments are made in production by a production deployment: "
        "no real money moves, and the app says so."
    )
    deployment: Environment = Field(description="This deployment's ENVIRONMENT.")
    business_name: str
    paybill_number: str = Field(
        description="Where a payer can pay by hand with the payment's account reference."
    )
    prompt_window_s: int = Field(description="How long an M-Pesa prompt stays on the phone.")
    currency: str = "KES"
    payment_min_kes: int
    payment_max_kes: int
    deposit_min_kes: int
    delivery_fee_kes: int = Field(description="An order's delivery fee (pickup is free).")
    free_delivery_from_kes: int | None = Field(
        description="The subtotal from which delivery is free, if there is one."
    )

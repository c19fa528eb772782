"""ORM models of payment-gateway, one file per table, all in the `gateway` schema."""

from payment_gateway.models.base import Base

__all__ = ["Base"]

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import Product
from session_api.pagination import PageParams
from session_api.product.exceptions import ProductNotFound
from session_api.product.repository import ProductRepository


async def get_product(session: AsyncSession, *, product_id: uuid.UUID) -> Product:
    product = await ProductRepository.from_session(session).get_active(product_id)
    if product is None:
        raise ProductNotFound(f"no product {product_id} on sale")
    return product


async def products_by_id(
    session: AsyncSession, *, product_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    """The products on sale among `product_ids`; missing ones are simply absent."""
    return await ProductRepository.from_session(session).get_active_many(product_ids)


async def listing(
    session: AsyncSession,
    *,
    search: str | None,
    min_price: int | None,
    max_price: int | None,
    page: PageParams,
) -> tuple[list[Product], int]:
    return await ProductRepository.from_session(session).listing(
        search=search, min_price=min_price, max_price=max_price, page=page
    )


async def ensure_product(
    session: AsyncSession, *, sku: str, name: str, description: str, price: int
) -> None:
    """Create the product unless one with this SKU exists (seeding is idempotent)."""
    await ProductRepository.from_session(session).upsert_by_sku(
        sku=sku, name=name, description=description, price=price
    )

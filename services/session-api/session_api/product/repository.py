from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from session_api.models import Product
from session_api.pagination import PageParams
from session_api.repository import Repository


class ProductRepository(Repository[Product]):
    model = Product

    async def get_active(self, product_id: uuid.UUID) -> Product | None:
        return await self.session.scalar(
            select(Product).where(Product.id == product_id, Product.is_active.is_(True))
        )

    async def get_active_many(self, product_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Product]:
        rows = await self.session.scalars(
            select(Product).where(Product.id.in_(list(product_ids)), Product.is_active.is_(True))
        )
        return {product.id: product for product in rows}

    async def listing(
        self, *, search: str | None, min_price: int | None, max_price: int | None, page: PageParams
    ) -> tuple[list[Product], int]:
        statement = select(Product).where(Product.is_active.is_(True))
        if search:
            pattern = (
                "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            statement = statement.where(Product.name.ilike(pattern, escape="\\"))
        if min_price is not None:
            statement = statement.where(Product.price >= min_price)
        if max_price is not None:
            statement = statement.where(Product.price <= max_price)
        return await self.paginate(statement.order_by(Product.name, Product.id), page)

    async def upsert_by_sku(self, *, sku: str, name: str, description: str, price: int) -> None:
        await self.session.execute(
            insert(Product)
            .values(id=uuid.uuid4(), sku=sku, name=name, description=description, price=price)
            .on_conflict_do_nothing(index_elements=[Product.sku])
        )

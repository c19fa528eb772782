from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from session_api.dependencies import SessionDep
from session_api.models import Product
from session_api.pagination import Page, PageDep, page_of
from session_api.product import service as product_service
from session_api.product.exceptions import ProductNotFound
from session_api.product.schemas import ProductOut
from shared.errors import responses
from shared.schemas import INT32_MAX, Text

router = APIRouter(tags=["shop"])


@router.get("/v1/products", response_model=Page[ProductOut])
async def list_products(
    session: SessionDep,
    page: PageDep,
    search: Annotated[Text | None, Query(max_length=100, description="Part of the name.")] = None,
    min_price: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
    max_price: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
) -> Page[ProductOut]:
    """Products on sale, by name."""
    result = await product_service.listing(
        session, search=search, min_price=min_price, max_price=max_price, page=page
    )
    return page_of(ProductOut, result, page)


@router.get(
    "/v1/products/{product_id}", response_model=ProductOut, responses=responses(ProductNotFound)
)
async def get_product(product_id: uuid.UUID, session: SessionDep) -> Product:
    """One product on sale."""
    return await product_service.get_product(session, product_id=product_id)

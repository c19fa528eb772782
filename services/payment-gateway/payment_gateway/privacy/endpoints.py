"""`POST /v1/erasures`: blank an erased payer's personal data from their payments."""

from __future__ import annotations

from fastapi import APIRouter

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.dependencies import SettingsDep
from payment_gateway.privacy import service
from payment_gateway.privacy.exceptions import PaymentInFlight
from payment_gateway.privacy.schemas import ErasureOut, ErasureRequest
from shared.db import SessionDep
from shared.errors import responses

router = APIRouter(prefix="/v1/erasures", tags=["privacy"])


@router.post("", response_model=ErasureOut, responses=responses(InvalidApiKey, PaymentInFlight))
async def erase(
    body: ErasureRequest, principal: ServiceDep, session: SessionDep, settings: SettingsDep
) -> ErasureOut:
    """Replace the payments' phone by its keyed hash and blank the payer's words; idempotent."""
    return await service.erase(
        session,
        settings=settings,
        payment_ids=body.payment_ids,
        redact=body.redact,
        principal=principal.name,
    )

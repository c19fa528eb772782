"""The payment-gateway app factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from payment_gateway import __doc__ as description
from payment_gateway import clients, stats
from payment_gateway.audit.endpoints import router as audit_router
from payment_gateway.callback import service as callback_service
from payment_gateway.callback.endpoints import router as callback_router
from payment_gateway.config import Settings
from payment_gateway.config import settings as default_settings
from payment_gateway.console.endpoints import router as console_router
from payment_gateway.credentials.endpoints import router as credentials_router
from payment_gateway.payment.endpoints import router as payment_router
from payment_gateway.privacy.endpoints import router as privacy_router
from payment_gateway.reconciliation.endpoints import results_router
from payment_gateway.reconciliation.endpoints import router as reconciliation_router
from payment_gateway.refund.endpoints import results_router as reversal_results_router
from payment_gateway.refund.endpoints import router as refund_router
from payment_gateway.review.endpoints import router as review_router
from shared import background
from shared.app import create_base_app, infrastructure
from shared.errors import responses
from shared.logging import configure_logging
from shared.ratelimit import RateLimiter, TooManyRequests


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or default_settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        callback_service.log_trust_policy(settings)
        async with infrastructure(app, settings, queue_name=settings.queue_name) as infra:
            daraja = clients.daraja_clients(
                settings, redis=infra.redis, sessionmaker=infra.sessionmaker
            )
            app.state.daraja_clients = daraja
            app.state.rate_limiter = RateLimiter(
                infra.redis,
                prefix=f"{settings.NAMESPACE}:ratelimit",
                enabled=settings.RATE_LIMITS_ENABLED,
            )
            app.state.callback_store = await clients.callback_store(settings)
            gauges = asyncio.create_task(
                stats.refresh_forever(
                    infra.sessionmaker,
                    infra.redis,
                    queue_name=settings.queue_name,
                    every_s=settings.STATS_REFRESH_S,
                ),
                name="gauge-refresh",
            )
            try:
                yield
            finally:
                await background.stop_task(gauges)
                await daraja.aclose()
                await app.state.callback_store.close()

    app = create_base_app(
        title="payment-gateway", version="0.1.0", description=description or "", lifespan=lifespan
    )
    app.state.settings = settings
    # Every service route counts its calls per service key (`auth.dependencies`), every Daraja
    # callback route its calls per source address (`callback.dependencies`).
    app.include_router(payment_router, responses=responses(TooManyRequests))
    app.include_router(callback_router)
    app.include_router(reconciliation_router, responses=responses(TooManyRequests))
    app.include_router(results_router, responses=responses(TooManyRequests))
    app.include_router(review_router, responses=responses(TooManyRequests))
    app.include_router(refund_router, responses=responses(TooManyRequests))
    app.include_router(reversal_results_router, responses=responses(TooManyRequests))
    app.include_router(audit_router, responses=responses(TooManyRequests))
    app.include_router(privacy_router, responses=responses(TooManyRequests))
    app.include_router(console_router, responses=responses(TooManyRequests))
    app.include_router(credentials_router, responses=responses(TooManyRequests))
    return app


def build() -> FastAPI:
    """Entry point for uvicorn's `--factory`."""
    configure_logging(
        level=default_settings.LOG_LEVEL, json=default_settings.LOG_JSON, service="payment_gateway"
    )
    return create_app()

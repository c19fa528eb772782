"""The session-api app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from session_api import __doc__ as description
from session_api import pubsub, ratelimit, seed
from session_api.audit.endpoints import router as audit_router
from session_api.auth.endpoints import router as auth_router
from session_api.booking.endpoints import router as booking_router
from session_api.config import QUEUE_NAME, Settings
from session_api.config import settings as default_settings
from session_api.console.endpoints import router as console_router
from session_api.event.endpoints import router as event_router
from session_api.integrations.gateway import GatewayClient
from session_api.notification.endpoints import router as notification_router
from session_api.order.endpoints import router as order_router
from session_api.payment.endpoints import router as payment_router
from session_api.platform_settings.endpoints import router as platform_settings_router
from session_api.privacy.endpoints import router as privacy_router
from session_api.product.endpoints import router as product_router
from session_api.refund.endpoints import router as refund_router
from session_api.review.endpoints import router as review_router
from session_api.risk.endpoints import router as risk_router
from session_api.therapist.endpoints import router as therapist_router
from session_api.wallet.endpoints import router as wallet_router
from session_api.web import spa
from session_api.web.endpoints import router as web_router
from session_api.web.security import SecurityHeadersMiddleware
from shared.app import create_base_app, infrastructure
from shared.logging import configure_logging
from shared.ratelimit import RateLimiter
from shared.settings import Environment

log = structlog.get_logger(__name__)


def gateway_client(settings: Settings) -> GatewayClient:
    return GatewayClient(
        base_url=settings.GATEWAY_URL,
        api_key=settings.GATEWAY_API_KEY.get_secret_value(),
        timeout_s=settings.GATEWAY_TIMEOUT_S,
        connect_timeout_s=settings.GATEWAY_CONNECT_TIMEOUT_S,
    )


# Every domain's routes, in the order the OpenAPI document lists them.
ROUTERS = (
    auth_router,
    therapist_router,
    booking_router,
    product_router,
    order_router,
    wallet_router,
    payment_router,
    notification_router,
    review_router,
    refund_router,
    privacy_router,
    risk_router,
    event_router,
    audit_router,
    console_router,
    platform_settings_router,
    web_router,
)


def create_app(
    settings: Settings | None = None, *, gateway: GatewayClient | None = None
) -> FastAPI:
    """`gateway` replaces the client built from settings (tests pass one on a mock transport)."""
    settings = settings or default_settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with infrastructure(app, settings, queue_name=QUEUE_NAME) as infra:
            client = gateway or gateway_client(settings)
            app.state.rate_limiter = RateLimiter(
                infra.redis, prefix=ratelimit.REDIS_PREFIX, enabled=settings.RATE_LIMITS_ENABLED
            )
            app.state.gateway = client
            if settings.SEED_ON_STARTUP and settings.ENVIRONMENT is Environment.development:
                try:
                    await seed.seed_demo_data(infra.sessionmaker, settings)
                except Exception:
                    # A database that is not up yet must not stop the API from starting.
                    log.warning("demo_seed_failed", exc_info=True)
            try:
                yield
            finally:
                await pubsub.drain()
                if gateway is None:
                    await client.aclose()

    app = create_base_app(
        title="session-api", version="0.1.0", description=description or "", lifespan=lifespan
    )
    app.state.settings = settings
    if settings.CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        )
    for router in ROUTERS:
        app.include_router(router)
    spa.install(app, settings.WEB_DIR)
    if settings.security_headers:
        app.add_middleware(SecurityHeadersMiddleware, hsts_max_age_s=settings.HSTS_MAX_AGE_S)
    return app


def build() -> FastAPI:
    """Entry point for uvicorn's `--factory`."""
    configure_logging(
        level=default_settings.LOG_LEVEL, json=default_settings.LOG_JSON, service="session_api"
    )
    return create_app()

"""The daraja-simulator app factory. Its state lives in memory; it needs no database or Redis,
so its readiness has nothing to check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from starlette.middleware import Middleware

from daraja_simulator import __doc__ as description
from daraja_simulator.c2b.endpoints import control_router as c2b_control_router
from daraja_simulator.c2b.endpoints import router as c2b_router
from daraja_simulator.config import Settings
from daraja_simulator.config import settings as default_settings
from daraja_simulator.control.endpoints import page_router
from daraja_simulator.control.endpoints import router as control_router
from daraja_simulator.errors import install_daraja_error_handlers
from daraja_simulator.messaging import endpoints as messaging
from daraja_simulator.messaging.smtp import bound_port, start_smtp_server
from daraja_simulator.messaging.store import Mailbox, SmsCenter
from daraja_simulator.oauth.endpoints import router as oauth_router
from daraja_simulator.reversal.endpoints import router as reversal_router
from daraja_simulator.safaricom_edge import SafaricomEdgeMiddleware
from daraja_simulator.state import SimulatorState
from daraja_simulator.stk.endpoints import router as stk_router
from daraja_simulator.transactions.endpoints import router as transactions_router
from shared.app import create_base_app
from shared.logging import configure_logging

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or default_settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.simulator = SimulatorState(settings)
        app.state.readiness = {}
        app.state.mailbox = Mailbox(settings.MAILBOX_LIMIT)
        app.state.sms_center = SmsCenter(
            limit=settings.SMS_LIMIT,
            report_url=settings.SMS_DELIVERY_REPORT_URL,
            report_delay_s=settings.SMS_DELIVERY_DELAY_S * settings.TIME_SCALE,
        )
        smtp = await _start_smtp(app, settings) if settings.SMTP_ENABLED else None
        try:
            yield
        finally:
            if smtp is not None:
                smtp.close()
            await app.state.sms_center.cancel_tasks()
            await app.state.simulator.cancel_tasks()

    app = create_base_app(
        title="daraja-simulator", version="0.1.0", description=description or "", lifespan=lifespan
    )
    app.state.settings = settings
    install_daraja_error_handlers(app)
    # Innermost (after the shared request-id and access-log middleware), so injected faults are
    # logged and carry a request id like any other answer.
    app.user_middleware.append(Middleware(SafaricomEdgeMiddleware))
    app.include_router(oauth_router)
    app.include_router(stk_router)
    app.include_router(transactions_router)
    app.include_router(reversal_router)
    app.include_router(c2b_router)
    app.include_router(c2b_control_router)
    app.include_router(control_router)
    app.include_router(page_router)
    app.include_router(messaging.router)
    app.include_router(messaging.provider_router)
    app.include_router(messaging.page_router)
    return app


async def _start_smtp(app: FastAPI, settings: Settings) -> asyncio.Server | None:
    try:
        smtp = await start_smtp_server(
            app.state.mailbox,
            host=settings.SMTP_HOST,
            port=settings.SMTP_PORT,
            username=settings.SMTP_USERNAME,
            password=settings.SMTP_PASSWORD,
        )
    except OSError:
        # The Daraja side is the simulator's purpose; a taken mail port must not stop it.
        log.warning("smtp_port_unavailable", port=settings.SMTP_PORT, exc_info=True)
        app.state.smtp_port = None
        return None
    app.state.smtp_port = bound_port(smtp)
    log.info("smtp_listening", host=settings.SMTP_HOST, port=app.state.smtp_port)
    return smtp


def build() -> FastAPI:
    """Entry point for uvicorn's `--factory`."""
    configure_logging(
        level=default_settings.LOG_LEVEL, json=default_settings.LOG_JSON, service="daraja_simulator"
    )
    return create_app()

"""The web app's configuration, and which built file answers a browser's path."""

from __future__ import annotations

from pathlib import Path

from session_api.config import Settings
from session_api.models import PlatformSetting
from session_api.web.schemas import AppConfig
from shared.settings import Environment

# Paths the API owns: an unknown one is a JSON 404, never the app's index.html.
API_PREFIXES = ("/v1/", "/internal/", "/docs", "/redoc", "/openapi.json")
API_PATHS = frozenset({"/v1", "/internal", "/healthz", "/readyz", "/metrics"})


def app_config(settings: Settings, platform: PlatformSetting | None) -> AppConfig:
    """``platform``: the active payment environment session-api keeps (sandbox when absent)."""
    environment = platform.payment_environment if platform else "sandbox"
    live = environment == "production" and settings.ENVIRONMENT is Environment.production
    return AppConfig(
        environment="production" if environment == "production" else "sandbox",
        test_mode=not live,
        deployment=settings.ENVIRONMENT,
        business_name=settings.BUSINESS_NAME,
        paybill_number=(platform.paybill_number if platform else None) or settings.BUSINESS_PAYBILL,
        prompt_window_s=settings.PROMPT_WINDOW_S,
        payment_min_kes=settings.PAYMENT_MIN_KES,
        payment_max_kes=settings.PAYMENT_MAX_KES,
        deposit_min_kes=settings.DEPOSIT_MIN_KES,
        delivery_fee_kes=settings.DELIVERY_FEE_KES,
        free_delivery_from_kes=settings.FREE_DELIVERY_FROM_KES,
    )


def is_api_path(path: str) -> bool:
    return path in API_PATHS or path.startswith(API_PREFIXES)


def resolve(web_dir: Path, path: str) -> Path | None:
    """The file that answers `path`: the built file itself, or index.html for the app's own
    routes (a path whose last part has no extension); None when nothing should."""
    root = web_dir.resolve()
    index = root / "index.html"
    if not index.is_file():
        return None
    relative = path.lstrip("/")
    if relative:
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
        if "." in relative.rsplit("/", 1)[-1]:
            return None  # a missing asset is a 404, not the app
    return index

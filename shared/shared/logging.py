"""Structured JSON logging with a request id and Kenyan phone numbers masked to their last 4
digits wherever they appear in an event."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.types import EventDict, WrappedLogger

# A Kenyan mobile number in any common spelling: 07XXXXXXXX, 01XXXXXXXX, 2547..., 2541...,
# +254 7.., with optional spaces or dashes between digit groups, or the bare 9 significant digits.
_SEP = r"[ \-]?"
KENYAN_PHONE = re.compile(
    rf"(?<![\d])(?:\+?254{_SEP}|0)?[17](?:{_SEP}\d){{8}}(?![\d])",
)
_NUMERIC_PHONE = re.compile(r"^(?:254|0)?[17]\d{8}$")
_MASKED_KEYS = frozenset({"password", "passkey", "secret", "token", "access_token", "pin"})


def mask_phone_numbers(text: str) -> str:
    """Replace every digit of each Kenyan phone number but its last four with ``*``."""

    def _mask(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = [c for c in raw if c.isdigit()]
        keep = len(digits) - 4
        out = []
        for char in raw:
            if char.isdigit():
                out.append("*" if keep > 0 else char)
                keep -= 1
            else:
                out.append(char)
        return "".join(out)

    return KENYAN_PHONE.sub(_mask, text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phone_numbers(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and _NUMERIC_PHONE.match(str(value)):
        return mask_phone_numbers(str(value))
    if isinstance(value, Mapping):
        return {
            k: ("***" if str(k).lower() in _MASKED_KEYS else _mask_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    return value


def mask_processor(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask phone numbers and obvious secrets anywhere in the event."""
    masked: EventDict = _mask_value(event_dict)
    return masked


def configure_logging(*, level: str = "INFO", json: bool = True, service: str = "") -> None:
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if service:
        shared_processors.insert(0, _add_service(service))
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            mask_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    # Libraries that log through the standard library (uvicorn, arq, alembic) go through the same
    # masking and rendering.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            mask_processor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Our own middleware logs each request; uvicorn's access line would repeat it unmasked.
    logging.getLogger("uvicorn.access").disabled = True


def _add_service(service: str) -> Any:
    def processor(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return processor

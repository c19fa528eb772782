"""What a notification says, and its email (HTML and plain text) and SMS renderings from the
Jinja2 templates beside this file. Rendered in the transaction that writes the outbox row, so the
row holds exactly what was sent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

# An SMS of more than three segments costs more than it is worth; the app has the rest.
SMS_MAX_CHARS = 459
SUBJECT_MAX_CHARS = 300

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Message:
    """One announcement: the in-app title and body, and what email and SMS add to them."""

    kind: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    paragraphs: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    # A link into the app: its label and its path under PUBLIC_URL.
    action: tuple[str, str] | None = None
    # What to pay when the link is not used: the amount (KES) and the account reference to key in
    # with the paybill number.
    payment: tuple[int, str] | None = None
    sms: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            kind=data["kind"],
            title=data["title"],
            body=data["body"],
            data=data.get("data") or {},
            paragraphs=tuple(data.get("paragraphs") or ()),
            details=tuple((str(k), str(v)) for k, v in data.get("details") or ()),
            action=_pair(data.get("action")),
            payment=_payment(data.get("payment")),
            sms=data.get("sms"),
        )


def _pair(value: Any) -> tuple[str, str] | None:
    return None if not value else (str(value[0]), str(value[1]))


def _payment(value: Any) -> tuple[int, str] | None:
    return None if not value else (int(value[0]), str(value[1]))


@dataclass(frozen=True)
class Sender:
    """Who the messages come from, from the settings of the worker that renders them."""

    business_name: str
    paybill: str
    public_url: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(message: Message, *, recipient_name: str, sender: Sender) -> RenderedEmail:
    context = {
        "message": message,
        "recipient_name": recipient_name,
        "business_name": sender.business_name,
        "paybill": sender.paybill,
        "action_url": _url(sender, message),
    }
    return RenderedEmail(
        subject=_clip(f"{message.title} · {sender.business_name}", SUBJECT_MAX_CHARS),
        text=_environment.get_template("email.txt").render(context),
        html=_environment.get_template("email.html").render(context),
    )


def render_sms(message: Message, *, sender: Sender) -> str:
    text = _environment.get_template("sms.txt").render(
        {"message": message, "business_name": sender.business_name}
    )
    return _clip(text.strip(), SMS_MAX_CHARS)


def _url(sender: Sender, message: Message) -> str | None:
    if message.action is None:
        return None
    return sender.public_url.rstrip("/") + message.action[1]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

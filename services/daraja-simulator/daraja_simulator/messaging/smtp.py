"""A real SMTP server (aiosmtpd) on the app's own event loop, so a test's sender and this
receiver share one loop and the port can be 0 (any free one, read back after start)."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from daraja_simulator.messaging.store import Mailbox, parse_email

log = structlog.get_logger(__name__)


class MailHandler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower() in self.mailbox.rejected:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        email = parse_email(
            raw, sender=str(envelope.mail_from or ""), recipients=list(envelope.rcpt_tos)
        )
        kept = self.mailbox.add(email)
        log.info("email_received", subject=email.subject, duplicate=not kept)
        return "250 Message accepted for delivery"


class Credentials:
    """Accepts AUTH with the configured user name and password; any when none is configured."""

    def __init__(self, username: str | None, password: str | None) -> None:
        self.username = username
        self.password = password

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        if self.username is None:
            return AuthResult(success=True)
        ok = data.login.decode() == self.username and data.password.decode() == self.password
        return AuthResult(success=ok)


async def start_smtp_server(
    mailbox: Mailbox, *, host: str, port: int, username: str | None, password: str | None
) -> asyncio.Server:
    handler = MailHandler(mailbox)
    credentials = Credentials(username, password)

    def protocol() -> SMTP:
        # Plain text on loopback: AUTH is offered without TLS (what a local catch-all does), so
        # aiosmtpd's warning about exactly that is expected here.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return SMTP(
                handler,
                hostname="daraja-simulator",
                authenticator=credentials,
                auth_require_tls=False,
                auth_required=username is not None,
            )

    return await asyncio.get_running_loop().create_server(protocol, host, port)


def bound_port(server: asyncio.Server) -> int:
    port: int = server.sockets[0].getsockname()[1]
    return port

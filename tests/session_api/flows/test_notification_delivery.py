"""The outbox under stress: a worker killed after the provider took a message, reminders run
twice at once and again after a restart."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from session_api.booking import service as booking_service
from session_api.integrations.africastalking import SmsClient
from session_api.integrations.smtp import Mailer, OutgoingEmail
from session_api.models import Booking, Channel, DeliveryStatus, UserRole
from session_api.notification import delivery
from session_api.notification import service as notification_service
from session_api.notification.content import Message
from session_api.notification.delivery import INTERRUPTED
from session_api.notification.providers import build_providers
from shared import db
from tests.session_api.fixtures import Account
from tests.session_api.flows.flow import Flow, phone, until
from tests.session_api.flows.test_notifications import paid_booking


class KilledAfterSmtp(Mailer):
    """The server takes the message, then the worker dies before recording it."""

    async def send(self, email: OutgoingEmail) -> str:
        await super().send(email)
        raise asyncio.CancelledError


class KilledAfterSms(SmsClient):
    async def send(self, *, to: str, message: str) -> str:
        await super().send(to=to, message=message)
        raise asyncio.CancelledError


async def queue_without_job(flow: Flow, account: Account, channel: Channel, title: str) -> Any:
    """An outbox row whose job is not sent, so only the test's worker run takes it."""
    state = flow.session_api.state
    async with state.sessionmaker() as session, db.unit_of_work(session, None):
        return await notification_service.queue_delivery(
            session,
            event_key=f"test.{title}",
            user=account.user,
            channel=channel,
            message=Message(kind="test", title=title, body=f"{title} body"),
        )


async def killed_send(flow: Flow, delivery_id: Any, providers: delivery.Providers) -> None:
    state = flow.session_api.state
    try:
        async with state.sessionmaker() as session, db.unit_of_work(session, state.arq):
            await delivery.deliver(
                session, delivery_id=delivery_id, providers=providers, settings=flow.settings
            )
    except asyncio.CancelledError:
        pass


async def sweep_later(flow: Flow) -> int:
    """The sweep, once the claim has gone stale (here: at once)."""
    state = flow.session_api.state
    impatient = flow.settings.model_copy(update={"NOTIFY_STALE_SENDING_S": 0})
    async with state.sessionmaker() as session, db.unit_of_work(session, state.arq):
        return await delivery.sweep(session, settings=impatient)


class TestKilledMidSend:
    async def test_an_email_taken_by_the_server_is_not_delivered_twice(self, flow: Flow) -> None:
        client = await flow.account()
        delivery_id = await queue_without_job(flow, client, Channel.email, "Killed once")
        real = build_providers(flow.settings)
        killing = dataclasses.replace(
            real, mailer=KilledAfterSmtp(**{k: getattr(real.mailer, k) for k in MAILER_FIELDS})
        )

        await killed_send(flow, delivery_id, killing)
        (stuck,) = await flow.deliveries(client.id)
        touched = await sweep_later(flow)

        async def sent() -> Any:
            (row,) = await flow.deliveries(client.id)
            return row if row.status is DeliveryStatus.sent else None

        row = await until(sent, what="the resend")
        assert stuck.status is DeliveryStatus.sending
        assert touched >= 1
        assert row.attempts == 2
        # The resend carried the same Message-ID; the receiving side kept one copy.
        assert len(await flow.emails(client.user.email)) == 1

    async def test_an_sms_whose_outcome_is_unknown_is_not_sent_again_but_goes_by_email(
        self, flow: Flow
    ) -> None:
        number = phone()
        client = await flow.account(phone=f"254{number[1:]}")
        delivery_id = await queue_without_job(flow, client, Channel.sms, "Killed SMS")
        real = build_providers(flow.settings)
        killing = dataclasses.replace(
            real,
            sms=KilledAfterSms(
                url=flow.settings.SMS_URL,
                username=flow.settings.SMS_USERNAME,
                api_key=flow.settings.SMS_API_KEY.get_secret_value(),
                sender_id=None,
                timeout_s=5,
            ),
        )

        await killed_send(flow, delivery_id, killing)
        await sweep_later(flow)
        email = await flow.email(client.user.email, "Killed SMS")
        rows = {d.channel: d for d in await flow.deliveries(client.id)}

        assert len(await flow.sms(f"+254{number[1:]}")) == 1
        assert rows[Channel.sms].status is DeliveryStatus.failed
        assert rows[Channel.sms].reason == INTERRUPTED
        assert "Killed SMS body" in email["text"]


MAILER_FIELDS = (
    "host",
    "port",
    "security",
    "username",
    "password",
    "timeout_s",
    "sender_name",
    "sender_address",
)


async def remind(flow: Flow, now: datetime) -> int:
    state = flow.session_api.state
    async with state.sessionmaker() as session, db.unit_of_work(session, state.arq):
        return await booking_service.send_reminders(session, lead_hours=[24, 1], now=now)


class TestReminders:
    async def test_24h_then_1h_each_sent_once_however_the_job_runs(self, flow: Flow) -> None:
        client_number, therapist_number = phone(), phone()
        client = await flow.account(phone=f"254{client_number[1:]}")
        therapist = await flow.account(UserRole.therapist, phone=f"254{therapist_number[1:]}")
        paid = await paid_booking(flow, client, therapist)
        now = datetime.now(UTC)
        starts = now + timedelta(hours=23, minutes=50)
        async with flow.session_api.state.sessionmaker() as session, session.begin():
            booking_id = (await flow.attempt(paid["id"], client))["payable_id"]
            await session.execute(
                update(Booking).where(Booking.id == booking_id).values(scheduled_at=starts)
            )

        twice = await asyncio.gather(remind(flow, now), remind(flow, now))
        # A restart that lost the bookkeeping of what was sent: the outbox row still stands.
        async with flow.session_api.state.sessionmaker() as session, session.begin():
            await session.execute(
                update(Booking).where(Booking.id == booking_id).values(reminders_sent=[])
            )
        after_restart = await remind(flow, now)
        day_before = await until(lambda: _texts(flow, client_number, 1), what="the 24 h reminder")
        hour_before = await asyncio.gather(
            remind(flow, starts - timedelta(minutes=50)),
            remind(flow, starts - timedelta(minutes=50)),
        )
        client_texts = await until(lambda: _texts(flow, client_number, 2), what="the 1 h reminder")
        therapist_texts = await until(
            lambda: _texts(flow, therapist_number, 1), what="the therapist's"
        )

        assert sorted(twice) == [0, 1]
        assert after_restart == 1
        assert "with Test Therapist starts" in day_before[0]["message"]
        assert day_before[0]["message"].endswith("EAT.")
        assert sorted(hour_before) == [0, 1]
        assert len(client_texts) == 2
        assert "starts" in therapist_texts[0]["message"]
        # Nothing more arrives: each (booking, lead time, person) went once.
        assert len(await flow.sms(f"+254{client_number[1:]}")) == 2

    async def test_a_session_that_has_started_gets_no_catch_up(self, flow: Flow) -> None:
        client_number = phone()
        client = await flow.account(phone=f"254{client_number[1:]}")
        therapist = await flow.account(UserRole.therapist)
        paid = await paid_booking(flow, client, therapist)
        async with flow.session_api.state.sessionmaker() as session, session.begin():
            booking_id = (await flow.attempt(paid["id"], client))["payable_id"]
            await session.execute(
                update(Booking)
                .where(Booking.id == booking_id)
                .values(scheduled_at=datetime.now(UTC) - timedelta(minutes=5))
            )

        assert await remind(flow, datetime.now(UTC)) == 0
        assert await flow.sms(f"+254{client_number[1:]}") == []


async def _texts(flow: Flow, number: str, count: int) -> list[dict[str, Any]] | None:
    messages = await flow.sms(f"+254{number[1:]}")
    return messages if len(messages) >= count else None


class TestRefusals:
    async def test_a_refused_recipient_fails_the_email_for_good_with_the_reason(
        self, flow: Flow
    ) -> None:
        client = await flow.account()
        await flow.simulator.put(
            "/simulator/emails/rejections", json={"address": client.user.email}
        )
        delivery_id = await queue_without_job(flow, client, Channel.email, "Refused")
        state = flow.session_api.state

        async with state.sessionmaker() as session, db.unit_of_work(session, state.arq):
            status = await delivery.deliver(
                session,
                delivery_id=delivery_id,
                providers=build_providers(flow.settings),
                settings=flow.settings,
            )
        (row,) = await flow.deliveries(client.id)

        assert status is DeliveryStatus.failed
        assert row.reason == "recipient refused: SMTP 550 5.1.1 Mailbox unavailable"
        assert await flow.emails(client.user.email) == []

    async def test_an_unreachable_mail_server_is_retried_later(self, flow: Flow) -> None:
        client = await flow.account()
        delivery_id = await queue_without_job(flow, client, Channel.email, "Retried")
        state = flow.session_api.state
        # A port nothing listens on: the connection is refused.
        unreachable = flow.settings.model_copy(update={"SMTP_PORT": 9})

        async with state.sessionmaker() as session, db.unit_of_work(session, state.arq):
            status = await delivery.deliver(
                session,
                delivery_id=delivery_id,
                providers=build_providers(unreachable),
                settings=flow.settings,
            )

        async def resent() -> Any:
            (row,) = await flow.deliveries(client.id)
            return row if row.status is DeliveryStatus.sent else None

        # The retry job, deferred by the backoff, goes to the real server and succeeds.
        row = await until(resent, what="the retry")
        assert status is DeliveryStatus.queued
        assert row.attempts == 2
        assert "Retried body" in (await flow.email(client.user.email, "Retried"))["text"]

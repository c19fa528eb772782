"""Suspicious activity is flagged for staff, never blocked: many failed payments from one phone,
many phones paying for one account, many accounts paying from one phone."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.models import UserRole
from session_api.risk import service as risk_service
from session_api.risk.tasks import flag_suspicious_activity
from tests.session_api.fixtures import Account, FakeGateway, MakeAccount, deliver


def fresh_phone() -> str:
    return f"07{uuid.uuid4().int % 10**8:08d}"


async def deposit(api: httpx.AsyncClient, who: Account, phone: str) -> None:
    created = await api.post(
        "/v1/wallet/deposits", json={"amount": 100, "phone": phone}, headers=who.headers
    )
    # Never blocked: every one of these payments goes ahead.
    assert created.status_code == 201, created.text


async def flags(api: httpx.AsyncClient, staff: Account, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/v1/admin/risk-flags", params=params, headers=staff.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestFlags:
    async def test_three_patterns_are_flagged_once_each_and_nothing_is_blocked(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
        settings: Settings,
    ) -> None:
        staff = await account(role=UserRole.staff)
        # One account paying from three phones.
        roamer = await account()
        roamer_phones = [fresh_phone() for _ in range(settings.RISK_PHONES_PER_ACCOUNT)]
        for number in roamer_phones:
            await deposit(api, roamer, number)
        # Three accounts paying from one phone.
        shared_phone = fresh_phone()
        sharers = [await account() for _ in range(settings.RISK_ACCOUNTS_PER_PHONE)]
        for sharer in sharers:
            await deposit(api, sharer, shared_phone)
        # Five failed payments from one phone.
        failing_phone = fresh_phone()
        payer = await account()
        for _ in range(settings.RISK_FAILED_PAYMENTS_PER_PHONE):
            await deposit(api, payer, failing_phone)
            cancelled = await deliver(api, gateway.cancelled(gateway.last_payment()["id"]))
            assert cancelled.status_code == 200, cancelled.text

        new = await risk_service.detect(db_session, settings=settings)

        assert new >= 3
        by_account = await flags(api, staff, kind="phones_per_account")
        (roaming,) = [f for f in by_account if f["user_id"] == roamer.id]
        assert roaming["count"] == len(roamer_phones)
        assert roaming["subject"] == f"user:{roamer.id}"
        by_phone = await flags(api, staff, kind="accounts_per_phone")
        (shared,) = [f for f in by_phone if set(f["detail"]["user_ids"]) >= {s.id for s in sharers}]
        assert shared["count"] == len(sharers)
        assert shared["detail"]["phones"] == ["254*****" + shared_phone[-4:]]
        failing = await flags(api, staff, kind="failed_payments_on_phone")
        (failed,) = [f for f in failing if f["detail"]["user_ids"] == [payer.id]]
        assert failed["count"] == settings.RISK_FAILED_PAYMENTS_PER_PHONE
        assert failed["detail"]["statuses"] == ["cancelled"]
        # Staff see who and which phone (masked), never the number itself.
        listed = str(await flags(api, staff))
        for number in (*roamer_phones, shared_phone, failing_phone):
            assert number[1:] not in listed
        # Seen again: the same flags, brought up to date, not new ones.
        await deposit(api, roamer, fresh_phone())

        assert await risk_service.detect(db_session, settings=settings) == 0
        again = await flags(api, staff, kind="phones_per_account")
        (roaming,) = [f for f in again if f["user_id"] == roamer.id]
        assert roaming["count"] == len(roamer_phones) + 1

    async def test_below_the_thresholds_nothing_is_flagged(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        db_session: AsyncSession,
        settings: Settings,
    ) -> None:
        staff = await account(role=UserRole.staff)
        client = await account()
        for _ in range(settings.RISK_PHONES_PER_ACCOUNT - 1):
            await deposit(api, client, fresh_phone())

        await risk_service.detect(db_session, settings=settings)

        assert all(client.id not in f["detail"]["user_ids"] for f in await flags(api, staff))

    async def test_only_staff_see_them(self, api: httpx.AsyncClient, account: MakeAccount) -> None:
        client = await account()
        admin = await account(role=UserRole.admin)

        refused = await api.get("/v1/admin/risk-flags", headers=client.headers)
        allowed = await api.get("/v1/admin/risk-flags", headers=admin.headers)

        assert refused.status_code == 403
        assert allowed.status_code == 200


class TestWorkerJob:
    async def test_the_cron_job_flags_what_was_committed(
        self,
        app: FastAPI,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        settings: Settings,
    ) -> None:
        staff = await live_account(role=UserRole.staff)
        client = await live_account()
        for _ in range(settings.RISK_PHONES_PER_ACCOUNT):
            await deposit(live_api, client, fresh_phone())
        ctx = {"settings": settings, "sessionmaker": app.state.sessionmaker, "redis": app.state.arq}

        assert await flag_suspicious_activity(ctx) == 1
        assert await flag_suspicious_activity(ctx) == 0

        (flag,) = await flags(live_api, staff, kind="phones_per_account")
        assert flag["user_id"] == client.id

"""When reconciliation runs by itself: daily at its Nairobi time, and Pull every hour."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from payment_gateway.config import Settings
from payment_gateway.worker import reconciliation_crons


def test_daily_at_its_nairobi_time_and_pull_at_minute_five() -> None:
    settings = Settings(RECONCILIATION_DAILY_HOUR=23, RECONCILIATION_DAILY_MINUTE=0)

    daily, pull = reconciliation_crons(settings)

    # arq reads the worker's own clock: 23:00 in Nairobi, expressed in the local zone.
    expected = datetime.now(ZoneInfo("Africa/Nairobi")).replace(hour=23, minute=0).astimezone()
    assert (daily.name, daily.hour, daily.minute, daily.second) == (
        "reconciliation.daily",
        {expected.hour},
        {0},
        {0},
    )
    assert (pull.name, pull.minute, pull.second) == ("reconciliation.hourly_pull", {5}, {0})
    assert daily.unique and pull.unique


def test_off_when_the_schedule_is_off() -> None:
    assert reconciliation_crons(Settings(RECONCILIATION_SCHEDULE=False)) == []

"""Fixtures for the simulator: the app in-process (its callbacks still go out over real HTTP) and a
callback receiver served on a free loopback port."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from daraja_simulator.config import Settings
from daraja_simulator.receiver import CallbackReceiver
from daraja_simulator.testing import FAST, Receiver, Sim, SimFactory, open_simulator
from shared.testing import serve_app


@pytest.fixture(scope="session")
async def served_receiver() -> AsyncIterator[tuple[CallbackReceiver, str]]:
    """One receiver for the session: starting and stopping a server per test costs 0.2 s."""
    callback_receiver = CallbackReceiver()
    async with serve_app(callback_receiver.app) as url:
        yield callback_receiver, url


@pytest.fixture
def receiver(served_receiver: tuple[CallbackReceiver, str]) -> Receiver:
    callback_receiver, url = served_receiver
    callback_receiver.status_code = 200
    return Receiver(receiver=callback_receiver, base_url=url, prefix=f"/{uuid.uuid4().hex}")


@pytest.fixture
def make_sim(receiver: Receiver) -> SimFactory:
    """``async with make_sim(SETTING=value) as sim``: a simulator with FAST settings plus these."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Sim]:
        settings = Settings(**{**FAST, **overrides})
        async with open_simulator(settings, callback_url=receiver.url()) as simulator:
            yield simulator

    return factory


@pytest.fixture
async def sim(make_sim: SimFactory) -> AsyncIterator[Sim]:
    async with make_sim() as simulator:
        yield simulator

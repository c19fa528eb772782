"""200 concurrent STK pushes against the daraja-simulator served over loopback HTTP.

Every push has its own callback URL on a real loopback receiver, so each success callback is a
real HTTP POST. Prints: whether every push was answered, whether every callback was delivered,
push throughput, p50/p99 push latency, and the time from the first push until the last callback.

The simulator, the receiver and the client share one event loop (and this machine's cores), so
the figures are a floor for the simulator, not a ceiling.

    python -m bench simulator_load
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import statistics
import time
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from daraja_simulator.clock import daraja_timestamp
from daraja_simulator.config import Settings
from daraja_simulator.main import create_app
from daraja_simulator.receiver import CallbackReceiver
from daraja_simulator.stk.validation import expected_password
from shared.logging import configure_logging
from shared.serving import serve_app

PUSHES = 200
TIME_SCALE = 0.001  # the 5 s customer delay becomes 5 ms
SHORTCODE = "174379"


@dataclass
class Figures:
    pushes: int
    answered: int
    callbacks: int
    delivered_attempts: int
    push_seconds: float
    latencies: list[float]
    last_callback_s: float


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _phone(n: int) -> str:
    # Ends in 149: outside the behaviour table, so every customer pays.
    return f"25471{n:04d}149"


def _push_body(app: FastAPI, passkey: str, receiver_url: str, n: int) -> dict[str, str]:
    stamp = daraja_timestamp(app.state.simulator.clock.now())
    return {
        "BusinessShortCode": SHORTCODE,
        "Password": expected_password(shortcode=SHORTCODE, passkey=passkey, timestamp=stamp),
        "Timestamp": stamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": str(1 + n),
        "PartyA": _phone(n),
        "PartyB": SHORTCODE,
        "PhoneNumber": _phone(n),
        "CallBackURL": f"{receiver_url}/callbacks/stk/{n:04d}",
        "AccountReference": f"LOAD-{n}",
        "TransactionDesc": "load test",
    }


async def _bearer(client: httpx.AsyncClient, settings: Settings) -> dict[str, str]:
    token_response = await client.get(
        "/oauth/v1/generate",
        params={"grant_type": "client_credentials"},
        auth=(settings.APPS[0].consumer_key, settings.APPS[0].consumer_secret),
    )
    return {"Authorization": f"Bearer {token_response.json()['access_token']}"}


async def run(pushes: int = PUSHES, time_scale: float = TIME_SCALE) -> Figures:
    settings = Settings(TIME_SCALE=time_scale)
    app = create_app(settings)
    receiver = CallbackReceiver()
    passkey = settings.SHORTCODES[0].passkey
    # One client (one connection) per push, like 200 separate callers: a single httpx pool with
    # 200 connections spends more time choosing a connection than the simulator spends
    # answering.
    tls = ssl.create_default_context()
    async with (
        serve_app(app) as simulator_url,
        serve_app(receiver.app) as receiver_url,
        httpx.AsyncClient(base_url=simulator_url, verify=tls) as client,
    ):
        headers = await _bearer(client, settings)

        async def push(n: int) -> tuple[bool, float]:
            body = _push_body(app, passkey, receiver_url, n)
            async with httpx.AsyncClient(
                base_url=simulator_url, verify=tls, timeout=30, trust_env=False
            ) as own:
                start = time.perf_counter()
                response = await own.post(
                    "/mpesa/stkpush/v1/processrequest", json=body, headers=headers
                )
                elapsed = time.perf_counter() - start
            return response.status_code == 200 and response.json()["ResponseCode"] == "0", elapsed

        started = time.perf_counter()
        results = await asyncio.gather(*(push(n) for n in range(pushes)))
        push_seconds = time.perf_counter() - started
        with contextlib.suppress(TimeoutError):
            await receiver.wait_for(pushes, limit_s=60)
        last_callback_s = time.perf_counter() - started
        state = app.state.simulator
        # The receiver records a body before the simulator has logged that attempt's answer.
        with contextlib.suppress(TimeoutError):
            await state.wait_until(lambda: not state.busy, limit_s=30)
        return Figures(
            pushes=pushes,
            answered=sum(1 for ok, _ in results if ok),
            callbacks=len({r.path for r in receiver.received}),
            delivered_attempts=sum(1 for a in state.callbacks.attempts if a.delivered),
            push_seconds=push_seconds,
            latencies=[elapsed for _, elapsed in results],
            last_callback_s=last_callback_s,
        )


def report(figures: Figures) -> str:
    ms = [s * 1000 for s in figures.latencies]
    lines = [
        f"pushes                     {figures.pushes} concurrent",
        f"all answered?              {figures.answered == figures.pushes}"
        f" ({figures.answered}/{figures.pushes} ResponseCode 0)",
        f"all callbacks delivered?   {figures.callbacks == figures.pushes}"
        f" ({figures.callbacks}/{figures.pushes} received,"
        f" {figures.delivered_attempts} attempts answered 2xx)",
        f"throughput                 {figures.pushes / figures.push_seconds:.0f} pushes/s"
        f" ({figures.push_seconds:.2f} s for all answers)",
        f"push latency               p50 {_percentile(ms, 0.50):.1f} ms,"
        f" p99 {_percentile(ms, 0.99):.1f} ms, mean {statistics.fmean(ms):.1f} ms",
        f"last callback after        {figures.last_callback_s:.2f} s"
        f" (customer delay {5 * TIME_SCALE * 1000:.0f} ms at TIME_SCALE {TIME_SCALE})",
    ]
    return "\n".join(lines)


def main() -> None:
    configure_logging(level="WARNING", json=False)
    print(report(asyncio.run(run())))


if __name__ == "__main__":
    main()

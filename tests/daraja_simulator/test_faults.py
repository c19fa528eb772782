import time
from datetime import UTC, datetime
from typing import Any

import pytest

from daraja_simulator.faults import FaultBoard, FaultKind
from daraja_simulator.testing import KEY, OAUTH, PUSH, SECRET, Sim, SimFactory, assert_daraja_error

SPIKE: dict[str, Any] = {
    "status": 500,
    "code": "500.003.02",
    "message": "Error Occurred: Spike Arrest Violation",
}
QUOTA: dict[str, Any] = {"status": 500, "code": "500.003.03", "message": "Quota Violation"}
BUSY: dict[str, Any] = {
    "status": 500,
    "code": "500.003.02",
    "message": "System is busy. Please try again in few minutes.",
}


async def add_fault(sim: Sim, **fault: object) -> dict[str, object]:
    response = await sim.client.post("/simulator/faults", json=fault)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def assert_outage(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")
    assert "503" in response.text


class TestOutage:
    async def test_the_next_n_requests_get_a_503_html_page(self, sim: Sim) -> None:
        await add_fault(sim, kind="outage", count=2)

        first = await sim.client.get(OAUTH, auth=(KEY, SECRET))
        second = await sim.client.get(OAUTH, auth=(KEY, SECRET))
        third = await sim.client.get(OAUTH, auth=(KEY, SECRET))

        assert_outage(first)
        assert_outage(second)
        assert third.status_code == 200
        log = (await sim.client.get("/simulator/requests", params={"api": "oauth"})).json()
        assert [(r["status"], r["fault"]) for r in log["requests"]] == [
            (503, "outage"),
            (503, "outage"),
            (200, None),
        ]

    async def test_limited_to_one_path(self, sim: Sim) -> None:
        await add_fault(sim, kind="outage", count=1, path=PUSH)
        token = await sim.token()

        assert_outage(await sim.push(token=token))
        assert (await sim.push(token=token)).status_code == 200

    async def test_for_a_duration_until_cleared(self, sim: Sim) -> None:
        fault = await add_fault(sim, kind="outage", seconds=30)

        assert_outage(await sim.client.get(OAUTH, auth=(KEY, SECRET)))
        listed = (await sim.client.get("/simulator/faults")).json()
        assert [f["id"] for f in listed] == [fault["id"]]
        assert 0 < listed[0]["seconds_left"] <= 30
        assert (await sim.client.delete(f"/simulator/faults/{fault['id']}")).status_code == 204
        assert (await sim.client.get(OAUTH, auth=(KEY, SECRET))).status_code == 200

    async def test_control_paths_are_never_faulted(self, sim: Sim) -> None:
        await add_fault(sim, kind="outage")

        assert (await sim.client.get("/simulator/faults")).status_code == 200
        assert (await sim.client.get("/healthz")).status_code == 200
        assert (await sim.client.delete("/simulator/faults")).status_code == 204
        assert (await sim.client.get(OAUTH, auth=(KEY, SECRET))).status_code == 200


class TestRateLimits:
    async def test_spike_arrest_for_the_next_request(self, sim: Sim) -> None:
        token = await sim.token()
        await add_fault(sim, kind="spike_arrest", count=1)

        assert_daraja_error(await sim.push(token=token), **SPIKE)
        assert (await sim.push(token=token)).status_code == 200

    async def test_spike_arrest_above_a_rate(self, sim: Sim) -> None:
        token = await sim.token()
        await add_fault(sim, kind="spike_arrest", rps=2, path=PUSH)

        answers = [
            await sim.push(token=token, PhoneNumber=f"25471100020{n}", PartyA="254711000200")
            for n in range(3)
        ]

        assert [a.status_code for a in answers[:2]] == [200, 200]
        assert_daraja_error(answers[2], **SPIKE)

    async def test_standing_spike_arrest_setting(self, make_sim: SimFactory) -> None:
        async with make_sim(SPIKE_ARREST_RPS=1) as sim:
            assert (await sim.client.get(OAUTH, auth=(KEY, SECRET))).status_code == 200
            refused = await sim.client.get(OAUTH, auth=(KEY, SECRET))

        assert_daraja_error(refused, **SPIKE)

    async def test_quota_for_the_next_request(self, sim: Sim) -> None:
        await add_fault(sim, kind="quota", count=1)

        assert_daraja_error(await sim.client.get(OAUTH, auth=(KEY, SECRET)), **QUOTA)
        assert (await sim.client.get(OAUTH, auth=(KEY, SECRET))).status_code == 200

    async def test_standing_quota_setting(self, make_sim: SimFactory) -> None:
        async with make_sim(QUOTA_REQUESTS=2) as sim:
            for _ in range(2):
                assert (await sim.client.get(OAUTH, auth=(KEY, SECRET))).status_code == 200
            refused = await sim.client.get(OAUTH, auth=(KEY, SECRET))

        assert_daraja_error(refused, **QUOTA)

    async def test_system_busy(self, sim: Sim) -> None:
        await add_fault(sim, kind="system_busy", count=1)

        assert_daraja_error(await sim.client.get(OAUTH, auth=(KEY, SECRET)), **BUSY)


class TestLatency:
    async def test_answers_later(self, sim: Sim) -> None:
        await add_fault(sim, kind="latency", latency_s=0.05, count=1)

        start = time.perf_counter()
        delayed = await sim.client.get(OAUTH, auth=(KEY, SECRET))
        elapsed = time.perf_counter() - start

        assert delayed.status_code == 200
        assert elapsed >= 0.05
        assert (await sim.client.get("/simulator/faults")).json() == []


class TestFaultApi:
    @pytest.mark.parametrize(
        "fault",
        [
            {"kind": "latency"},
            {"kind": "outage", "rps": 3},
            {"kind": "spike_arrest", "rps": 3, "count": 2},
            {"kind": "outage", "path": "/not/a/daraja/path"},
            {"kind": "flood"},
            {"kind": "outage", "count": 0},
        ],
    )
    async def test_rejects_incoherent_faults(self, sim: Sim, fault: dict[str, object]) -> None:
        response = await sim.client.post("/simulator/faults", json=fault)

        assert response.status_code == 422

    async def test_clearing_an_unknown_fault(self, sim: Sim) -> None:
        response = await sim.client.delete("/simulator/faults/99")

        assert response.status_code == 404
        assert response.json()["error"] == "FaultNotFound"


class TestFaultBoard:
    """The time-based parts, on a clock the test moves."""

    def board(self, now: list[float], **limits: object) -> FaultBoard:
        settings: dict[str, object] = {
            "spike_arrest_rps": None,
            "quota_requests": None,
            "quota_period_s": 60.0,
            **limits,
        }
        return FaultBoard(monotonic=lambda: now[0], **settings)  # type: ignore[arg-type]

    def test_a_timed_fault_ends_by_itself(self) -> None:
        now = [100.0]
        board = self.board(now)
        board.add(FaultKind.outage, created_at=datetime.now(UTC), seconds=5)

        assert board.check(PUSH).outage
        now[0] = 105.1
        assert not board.check(PUSH).outage
        assert board.active() == []

    def test_the_rate_window_slides(self) -> None:
        now = [0.0]
        board = self.board(now, spike_arrest_rps=2)

        assert board.check(PUSH).error is None
        assert board.check(PUSH).error is None
        assert board.check(PUSH).error is not None
        now[0] = 1.01
        assert board.check(PUSH).error is None

    def test_the_quota_period_slides(self) -> None:
        now = [0.0]
        board = self.board(now, quota_requests=1, quota_period_s=60.0)

        assert board.check(PUSH).error is None
        assert board.check(PUSH).error is not None
        now[0] = 60.5
        assert board.check(PUSH).error is None

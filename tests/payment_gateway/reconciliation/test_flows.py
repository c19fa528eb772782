"""Reconciliation over HTTP against the simulator: a payment whose callback and every poll were
lost ends completed by a run (and its subscriber told); Pull's 1001 for a shortcode that is not
provisioned fails the run instead of reporting nothing; one window makes one run however many
ask; a statement upload is idempotent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text

from tests.payment_gateway.stack import AUTH, GatewayStack, StackFactory
from tests.payment_gateway.test_recovery import forget_all_jobs

QUERY_PATH = "/mpesa/stkpushquery/v1/query"
# Polls give up quickly: the test is about what happens after they all failed.
QUICK_POLLS = {"POLL_SCHEDULE_S": [20, 20], "RECONCILIATION_PULL_NOMINATED_NUMBER": "0722000000"}


def window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=5)).isoformat(),
    }


async def run_to_end(stack: GatewayStack, body: dict[str, Any]) -> dict[str, Any]:
    response = await stack.client.post("/v1/reconciliation/runs", json=body, headers=AUTH)
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]

    async def ended() -> dict[str, Any] | None:
        run = (await stack.client.get(f"/v1/reconciliation/runs/{run_id}", headers=AUTH)).json()
        return run if run["status"] in ("completed", "failed") else None

    run: dict[str, Any] = await stack.until(ended, what=f"run {run_id} to end")
    return run


async def test_a_payment_every_callback_and_poll_missed_is_completed_by_a_run(
    make_stack: StackFactory,
) -> None:
    async with make_stack(gateway=QUICK_POLLS) as stack:
        await stack.fault(kind="outage", path=QUERY_PATH)  # every poll fails
        created = (await stack.pay(stack.phone("005"), 450)).json()  # pays, no callback
        await stack.wait_status(created["id"], "timeout")
        await stack.clear_faults()

        run = await run_to_end(stack, {**window(), "sources": ["stk_query"]})

        assert run["status"] == "completed", run
        assert run["summary"]["settled_late"] == 1
        payment = await stack.payment(created["id"])
        assert payment["status"] == "completed"
        last = (await stack.events(created["id"]))[-1]
        assert (last["reason"], last["source"], last["from_status"]) == (
            "late_success",
            "reconciliation",
            "timeout",
        )
        await stack.receiver.wait_for(created["id"], "payment.completed")
        items = await stack.client.get(
            f"/v1/reconciliation/runs/{run['id']}/items",
            params={"verdict": "settled_late"},
            headers=AUTH,
        )
        assert [i["payment_id"] for i in items.json()["items"]] == [created["id"]]
        report = await stack.client.get(
            f"/v1/reconciliation/runs/{run['id']}/report.csv", headers=AUTH
        )
        assert report.headers["content-type"].startswith("text/csv")
        assert report.text.splitlines()[0].startswith("verdict,payment_id")
        assert f"settled_late,{created['id']}" in report.text


async def test_pull_answering_1001_for_money_it_holds_fails_the_run(
    make_stack: StackFactory,
) -> None:
    async with make_stack(gateway=QUICK_POLLS) as stack:
        created = (await stack.pay(stack.phone(), 300)).json()
        await stack.wait_status(created["id"], "completed")
        await stack.fault(kind="pull_not_provisioned", count=1)

        failed = await run_to_end(stack, {**window(), "sources": ["pull"]})
        later = datetime.now(UTC) + timedelta(minutes=2)  # another window: another run
        listed = await run_to_end(stack, {**window(), "to": later.isoformat(), "sources": ["pull"]})

        assert failed["status"] == "failed"
        assert "not provisioned" in failed["error"]
        assert failed["summary"] == {}
        assert listed["status"] == "completed", listed
        assert listed["summary"]["matched"] == 1
        assert listed["source_results"]["pull"]["rows"] == 1


async def test_a_run_whose_source_stays_down_fails_with_the_reason_and_can_be_asked_again(
    make_stack: StackFactory,
) -> None:
    gives_up = {**QUICK_POLLS, "RECONCILIATION_RUN_MAX_TRIES": 2, "RECONCILIATION_RETRY_S": 1}
    async with make_stack(gateway=gives_up) as stack:
        created = (await stack.pay(stack.phone(), 350)).json()
        await stack.wait_status(created["id"], "completed")
        await stack.fault(kind="outage", path="/pulltransactions/v1/query")  # down for good
        body = {**window(), "sources": ["pull"]}

        failed = await run_to_end(stack, body)
        await stack.clear_faults()
        again = await run_to_end(stack, body)

        assert failed["status"] == "failed", failed
        assert "Pull Transactions" in failed["error"]
        assert "after 2 tries" in failed["error"]
        assert failed["finished_at"] is not None
        assert again["id"] == failed["id"]
        assert again["status"] == "completed", again
        assert again["error"] is None
        assert again["summary"]["matched"] == 1


async def test_a_run_whose_worker_dies_mid_batch_is_resumed_by_another_and_applies_nothing_twice(
    make_stack: StackFactory, redis_client: Redis
) -> None:
    resumable = {**QUICK_POLLS, "RECONCILIATION_BATCH_SIZE": 2, "SWEEP_GRACE_S": 1}
    async with make_stack(gateway=resumable) as stack:
        await stack.fault(kind="outage", path=QUERY_PATH)  # every poll fails
        created = [(await stack.pay(stack.phone("005"), 460 + i)).json() for i in range(3)]
        for payment in created:
            await stack.wait_status(payment["id"], "timeout")
        await stack.clear_faults()
        ids = [p["id"] for p in created]
        async with stack.engine.connect() as holder:
            # Someone else holds the second payment: the run's first judging batch settles
            # the first payment, then waits here with that settlement uncommitted.
            await holder.execute(
                text("SELECT id FROM gateway.payment WHERE id = :id FOR UPDATE"), {"id": ids[1]}
            )
            requested = await stack.client.post(
                "/v1/reconciliation/runs", json={**window(), "sources": ["stk_query"]}, headers=AUTH
            )
            assert requested.status_code == 202, requested.text
            run_id = requested.json()["id"]

            async def blocked() -> int | None:
                pid: int | None = await stack.scalar(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%FROM gateway.payment%FOR UPDATE%'"
                )
                return pid

            pid = await stack.until(blocked, what="the run's batch to wait for the payment")
            assert stack.worker is not None
            await stack.worker.kill()  # mid-batch: the job is cut off, its connection dropped
            await stack.scalar("SELECT pg_terminate_backend(:pid)", pid=pid)
            await holder.rollback()
        assert (
            await stack.scalar(
                "SELECT checkpoint->>'phase' FROM gateway.reconciliation_run WHERE id = :id",
                id=run_id,
            )
            == "payments"
        )
        assert (await stack.payment(ids[0]))["status"] == "timeout"  # its settlement was lost
        await forget_all_jobs(redis_client)

        await stack.start_worker()  # its startup sweep finds the stalled run
        run = await stack.until(
            lambda: finished(stack, run_id), what=f"run {run_id} to be resumed and end"
        )

        assert run["status"] == "completed", run
        assert run["summary"]["settled_late"] == 3
        for payment_id in ids:
            assert (await stack.payment(payment_id))["status"] == "completed"
            late = [e for e in await stack.events(payment_id) if e["reason"] == "late_success"]
            assert len(late) == 1
            await stack.receiver.wait_for(payment_id, "payment.completed")
            assert stack.receiver.types(payment_id).count("payment.completed") == 1
            assert (
                await stack.scalar(
                    "SELECT count(*) FROM gateway.outbox_event WHERE payment_id = :id "
                    "AND type = 'payment.completed'",
                    id=payment_id,
                )
                == 1
            )
            assert (
                await stack.scalar(
                    "SELECT count(*) FROM gateway.reconciliation_item "
                    "WHERE run_id = :run AND payment_id = :id",
                    run=run_id,
                    id=payment_id,
                )
                == 1
            )
        assert (
            await stack.scalar(
                "SELECT count(*) FROM gateway.outbox_event WHERE type = 'reconciliation.completed' "
                "AND payload->'data'->>'id' = :id",
                id=run_id,
            )
            == 1
        )


async def finished(stack: GatewayStack, run_id: str) -> dict[str, Any] | None:
    run: dict[str, Any] = (
        await stack.client.get(f"/v1/reconciliation/runs/{run_id}", headers=AUTH)
    ).json()
    return run if run["status"] in ("completed", "failed") else None


async def test_two_concurrent_requests_for_one_window_make_one_run(stack: GatewayStack) -> None:
    body = {
        "from": "2001-03-01T00:00:00+03:00",
        "to": "2001-03-02T00:00:00+03:00",
        "sources": ["statement"],
    }

    first, second = await asyncio.gather(
        *(stack.client.post("/v1/reconciliation/runs", json=body, headers=AUTH) for _ in range(2))
    )

    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]


async def test_a_window_the_wrong_way_round_is_refused(stack: GatewayStack) -> None:
    body = {"from": "2001-03-02T00:00:00Z", "to": "2001-03-01T00:00:00Z", "sources": ["pull"]}

    response = await stack.client.post("/v1/reconciliation/runs", json=body, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidWindow"


async def test_a_statement_upload_is_idempotent_and_reports_bad_lines(stack: GatewayStack) -> None:
    created = (await stack.pay(stack.phone(), 120)).json()
    await stack.wait_status(created["id"], "completed")
    exported = await stack.simulator.get("/simulator/statement.csv")
    assert exported.status_code == 200
    data = exported.content + b"NOT-A-RECEIPT,yesterday,,,Completed,12.50,,,,,,,\r\n"

    async def upload() -> dict[str, Any]:
        response = await stack.client.post(
            "/v1/reconciliation/statements",
            files={"file": ("statement.csv", data, "text/csv")},
            headers=AUTH,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    first = await upload()
    again = await upload()

    lines = len(exported.text.splitlines())
    assert first["rows"] >= 2
    assert first["new"] == first["rows"] - 1 - first["duplicates"]
    assert (again["new"], again["duplicates"]) == (0, first["new"] + first["duplicates"])
    assert first["rejected"] == [
        {"line": lines + 1, "reason": "Paid In '12.50' is not a whole number of KES"}
    ]


async def test_transaction_status_results_come_through_the_inbox_and_a_queue_timeout_is_asked_again(
    make_stack: StackFactory,
) -> None:
    async with make_stack(gateway=QUICK_POLLS) as stack:
        await stack.fault(kind="outage", path=QUERY_PATH)
        created = (await stack.pay(stack.phone("005"), 650)).json()
        await stack.wait_status(created["id"], "timeout")
        await stack.clear_faults()
        await stack.fault(kind="result_timeout", count=1)

        run = await run_to_end(stack, {**window(), "sources": ["transaction_status"]})

        assert run["status"] == "completed", run
        assert run["summary"]["settled_late"] == 1
        assert run["source_results"]["transaction_status"] == {"answered": 1}
        payment = await stack.payment(created["id"])
        [entry] = [
            e
            for e in (await stack.simulator.get("/simulator/ledger")).json()["entries"]
            if e["checkout_request_id"] == created["checkout_request_id"]
        ]
        assert (payment["status"], payment["receipt_number"]) == ("completed", entry["receipt"])
        attempts = await stack.scalar(
            "SELECT attempts FROM gateway.status_query WHERE payment_id = :id", id=created["id"]
        )
        assert attempts == 2
        kinds = await stack.scalar("SELECT json_agg(kind ORDER BY id) FROM gateway.result_inbox")
        assert kinds == ["timeout", "result"]


async def test_a_completed_payment_m_pesa_never_answered_about_is_pending_and_asked_next_run(
    make_stack: StackFactory,
) -> None:
    async with make_stack(
        gateway={**QUICK_POLLS, "RECONCILIATION_STATUS_MAX_ATTEMPTS": 1}
    ) as stack:
        created = (await stack.pay(stack.phone(), 655)).json()
        paid = await stack.wait_status(created["id"], "completed")
        await stack.fault(kind="result_timeout", count=1)  # its one question times out
        first_window = window()
        later = datetime.fromisoformat(first_window["to"])
        next_window = {"from": later.isoformat(), "to": (later + timedelta(hours=1)).isoformat()}

        first = await run_to_end(stack, {**first_window, "sources": ["transaction_status"]})
        second = await run_to_end(stack, {**next_window, "sources": ["transaction_status"]})

        assert first["status"] == "completed", first
        assert (first["summary"]["pending_verification"], first["summary"]["missing_in_mpesa"]) == (
            1,
            0,
        )
        assert second["status"] == "completed", second
        assert (second["summary"]["pending_verification"], second["summary"]["matched"]) == (0, 1)
        items = await stack.client.get(
            f"/v1/reconciliation/runs/{second['id']}/items", headers=AUTH
        )
        [item] = items.json()["items"]
        assert (item["verdict"], item["payment_id"], item["receipt"]) == (
            "matched",
            created["id"],
            paid["receipt_number"],
        )
        opened = await stack.client.get(
            "/v1/reconciliation/exceptions", params={"status": "open"}, headers=AUTH
        )
        assert opened.json()["items"] == []


async def test_a_result_for_an_address_nobody_asked_about_is_refused(stack: GatewayStack) -> None:
    response = await stack.client.post(
        "/v1/callbacks/result/" + "ab" * 20, json={"Result": {"ResultCode": 0}}
    )

    assert response.status_code == 404
    assert response.json()["error"] == "UnknownResultUrl"


C2B = {**QUICK_POLLS, "RECONCILIATION_C2B_TOKEN": "c2b0123456789abcdef"}


async def pay_by_hand(
    stack: GatewayStack, phone: str, amount: int, reference: str, **extra: Any
) -> dict[str, Any]:
    response = await stack.simulator.post(
        "/simulator/c2b",
        json={
            "phone": "254" + phone[1:],
            "amount": amount,
            "account_reference": reference,
            "shortcode": stack.settings.DARAJA_SHORTCODE,
            **extra,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_hand_payment_for_an_unanswered_prompt_completes_it_in_real_time(
    make_stack: StackFactory,
) -> None:
    async with make_stack(gateway=C2B) as stack:
        registered = await stack.client.post("/v1/reconciliation/c2b/register", headers=AUTH)
        assert registered.status_code == 200, registered.text
        phone = stack.phone("010")  # the prompt is never answered
        created = (await stack.pay(phone, 777, reference="HAND-1")).json()

        paid = await pay_by_hand(stack, phone, 777, "hand-1")

        assert (paid["accepted"], paid["confirmation_delivered"]) == (True, True)
        payment = await stack.wait_status(created["id"], "completed")
        assert payment["receipt_number"] == paid["receipt"]
        await stack.receiver.wait_for(created["id"], "payment.completed")


async def test_a_hand_payment_whose_confirmation_was_lost_completes_at_the_next_run(
    make_stack: StackFactory,
) -> None:
    async with make_stack(gateway=C2B) as stack:
        await stack.client.post("/v1/reconciliation/c2b/register", headers=AUTH)
        phone = stack.phone("010")
        created = (await stack.pay(phone, 778, reference="HAND-2")).json()
        paid = await pay_by_hand(stack, phone, 778, "HAND-2", deliver_confirmation=False)
        await stack.wait_status(created["id"], "timeout")

        run = await run_to_end(stack, {**window(), "sources": ["pull"]})

        assert run["status"] == "completed", run
        assert run["summary"]["matched_by_reference"] == 1
        payment = await stack.payment(created["id"])
        assert (payment["status"], payment["receipt_number"]) == ("completed", paid["receipt"])


async def test_c2b_validation_set_to_refuse_turns_away_money_for_an_account_nothing_open_has(
    make_stack: StackFactory,
) -> None:
    async with make_stack(
        gateway={**C2B, "RECONCILIATION_C2B_REJECT_UNKNOWN_REFERENCE": True}
    ) as stack:
        await stack.client.post("/v1/reconciliation/c2b/register", headers=AUTH)
        phone = stack.phone("010")  # the prompt is never answered
        created = (await stack.pay(phone, 779, reference="HAND-3")).json()

        refused = await pay_by_hand(stack, stack.phone(), 500, "NOBODY-9")
        taken = await pay_by_hand(stack, phone, 779, "hand-3")

        assert (refused["accepted"], refused["result_code"], refused["receipt"]) == (
            False,
            "C2B00012",
            None,
        )
        ledger = (await stack.simulator.get("/simulator/ledger")).json()["entries"]
        assert [e["account_reference"] for e in ledger if e["receipt"] == taken["receipt"]] == [
            "hand-3"
        ]
        assert [e for e in ledger if e["account_reference"] == "NOBODY-9"] == []
        assert (taken["accepted"], taken["result_code"]) == (True, "0")
        payment = await stack.wait_status(created["id"], "completed")
        assert payment["receipt_number"] == taken["receipt"]

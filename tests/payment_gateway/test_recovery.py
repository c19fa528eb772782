"""Nothing is lost when the worker dies, Redis forgets its jobs, the API process
dies mid-request, or the event receiver is down for a while."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from payment_gateway.auth.service import principal_for
from payment_gateway.idempotency import service as idempotency_service
from payment_gateway.models import EventSource
from payment_gateway.payment import lifecycle
from payment_gateway.payment import service as payment_service
from payment_gateway.payment.schemas import PaymentCreate
from shared.db import create_sessionmaker

API_KEY = "test-service-key"
# A killed worker may die holding a delivery; a short webhook timeout frees it soon.
FAST_SWEEP = {"SWEEP_GRACE_S": 1, "SWEEP_INTERVAL_S": 1, "WEBHOOK_TIMEOUT_S": 2}


async def forget_all_jobs(redis: Redis) -> None:
    """What a Redis loss (or a flushed queue) does to the worker's jobs."""
    keys = [key async for key in redis.scan_iter("arq:*")]
    if keys:
        await redis.delete(*keys)


async def test_restarted_worker_resumes_every_sent_payment(
    make_stack: Any, redis_client: Redis
) -> None:
    async with make_stack(gateway=FAST_SWEEP) as stack:
        created = [(await stack.pay(stack.phone("005"), 140 + i)).json() for i in range(5)]
        assert {p["status"] for p in created} == {"sent"}
        assert stack.worker is not None
        await stack.worker.kill()
        await forget_all_jobs(redis_client)
        assert await redis_client.zcard(stack.settings.queue_name) == 0

        await stack.start_worker()  # its startup sweep finds the overdue payments
        for payment in created:
            await stack.receiver.wait_for(payment["id"], "payment.completed")
            assert (await stack.payment(payment["id"]))["status"] == "completed"
            assert stack.receiver.types(payment["id"]) == ["payment.sent", "payment.completed"]


async def test_pending_payment_of_a_dead_request_is_pushed_and_its_key_resumed(
    make_stack: Any, db_engine: AsyncEngine
) -> None:
    async with make_stack(gateway=FAST_SWEEP, worker=False) as stack:
        body = PaymentCreate(
            amount=150, phone=stack.phone("100"), account_reference="ACC-9", description="Crash"
        )
        principal = principal_for(API_KEY).name
        sessionmaker = create_sessionmaker(db_engine)
        # What POST /v1/payments commits before calling Daraja; then the process dies.
        async with sessionmaker() as session:
            claim = await idempotency_service.claim(
                session,
                principal=principal,
                key="dies-mid-request",
                fingerprint=idempotency_service.request_hash(body.model_dump(mode="json")),
                settings=stack.settings,
            )
            assert isinstance(claim, idempotency_service.Claim)
            payment, _ = await payment_service.create(
                session,
                request=body,
                actor=lifecycle.Actor(EventSource.api, principal),
                settings=stack.settings,
            )
            await idempotency_service.attach_payment(session, claim=claim, payment_id=payment.id)
            # Long enough ago that both the in-flight push and the key's lock have expired.
            payment.next_check_at = payment.created_at - timedelta(minutes=5)
            await session.commit()
        await stack.scalar(
            "UPDATE gateway.idempotency_key SET locked_at = now() - interval '1 hour' RETURNING id"
        )

        retried = await stack.pay(
            f"0{body.phone[3:]}",
            150,
            key="dies-mid-request",
            reference="ACC-9",
            description="Crash",
        )
        assert retried.status_code == 201, retried.text
        assert retried.json()["id"] == str(payment.id)
        assert retried.json()["status"] == "pending"

        await stack.start_worker()
        await stack.receiver.wait_for(str(payment.id), "payment.completed")
        assert len(await stack.sim_requests("stk_push")) == 1


async def test_events_are_retried_while_the_receiver_is_down(make_stack: Any) -> None:
    async with make_stack() as stack:
        stack.receiver.down = True
        created = (await stack.pay(stack.phone("001"), 160)).json()

        async def failed_attempts() -> bool:
            count = await stack.scalar(
                "SELECT count(*) FROM gateway.delivery_attempt WHERE status_code = 503"
            )
            return bool(count >= 4)

        await stack.until(failed_attempts, what="four refused delivery attempts")
        assert stack.receiver.events == []
        stack.receiver.down = False

        await stack.receiver.wait_for(created["id"], "payment.cancelled")
        assert stack.receiver.types(created["id"]) == ["payment.sent", "payment.cancelled"]
        rows = await stack.scalar(
            "SELECT json_agg(json_build_object('n', a.number, 'code', a.status_code) "
            "ORDER BY a.id) FROM gateway.delivery_attempt a "
            "JOIN gateway.event_delivery d ON d.id = a.delivery_id "
            "JOIN gateway.outbox_event e ON e.id = d.event_id WHERE e.type = 'payment.sent'"
        )
        assert [r["n"] for r in rows] == list(range(1, len(rows) + 1))
        assert {r["code"] for r in rows[:-1]} == {503}
        assert rows[-1]["code"] == 204
        gaps = await stack.scalar(
            "SELECT json_agg(extract(epoch FROM gap)) FROM ("
            " SELECT a.attempted_at - lag(a.attempted_at) OVER (ORDER BY a.id) AS gap"
            " FROM gateway.delivery_attempt a JOIN gateway.event_delivery d ON d.id = a.delivery_id"
            " JOIN gateway.outbox_event e ON e.id = d.event_id WHERE e.type = 'payment.sent'"
            ") g WHERE gap IS NOT NULL"
        )
        # Backoff with a floor of a tenth of its ceiling: 5 s x 0.01 for the first retry.
        assert min(gaps) >= 0.005

        # The receiver has its 204 a moment before the gateway records the delivery.
        async def all_delivered() -> bool:
            undelivered = await stack.scalar(
                "SELECT count(*) FROM gateway.event_delivery WHERE status <> 'delivered'"
            )
            return bool(undelivered == 0)

        await stack.until(all_delivered, what="every delivery recorded as delivered")


async def test_sweep_resends_events_whose_jobs_were_lost(
    make_stack: Any, redis_client: Redis
) -> None:
    async with make_stack(gateway=FAST_SWEEP) as stack:
        assert stack.worker is not None
        await stack.worker.kill()
        created = (await stack.pay(stack.phone("100"), 170)).json()
        await forget_all_jobs(redis_client)
        await stack.start_worker()
        await stack.receiver.wait_for(created["id"], "payment.completed")
        assert stack.receiver.types(created["id"]) == ["payment.sent", "payment.completed"]


async def test_stored_callback_left_unprocessed_is_applied_by_the_sweep(make_stack: Any) -> None:
    # From the allow-list, so the callback is believed without asking Daraja (the customer,
    # `010`, never answers the prompt there).
    gateway = {**FAST_SWEEP, "CALLBACK_ALLOWED_CIDRS": ["196.201.214.0/24"]}
    async with make_stack(gateway=gateway) as stack:
        created = (await stack.pay(stack.phone("010"), 180)).json()
        phone = await stack.scalar(
            "SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"]
        )
        body = json.dumps(
            {
                "Body": {
                    "stkCallback": {
                        "MerchantRequestID": created["merchant_request_id"],
                        "CheckoutRequestID": created["checkout_request_id"],
                        "ResultCode": 0,
                        "ResultDesc": "The service request is processed successfully.",
                        "CallbackMetadata": {
                            "Item": [
                                {"Name": "Amount", "Value": 180.0},
                                {"Name": "MpesaReceiptNumber", "Value": "UKM0SWEEP1"},
                                {"Name": "PhoneNumber", "Value": int(phone)},
                            ]
                        },
                    }
                }
            }
        ).encode()
        # Stored by an API process that died before processing it.
        await stack.scalar(
            "INSERT INTO gateway.callback_inbox "
            "(payment_id, dedupe_key, body, source_ip, received_at) "
            "VALUES (:id, :key, :body, '196.201.214.200', now() - interval '1 minute') "
            "RETURNING id",
            id=created["id"],
            key=f"{created['id']}:test",
            body=body,
        )
        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        assert completed[0]["data"]["receipt_number"] == "UKM0SWEEP1"
        assert await stack.scalar("SELECT outcome FROM gateway.callback_inbox") == "applied"

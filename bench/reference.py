"""The reference the callback-ingest benchmark compares the gateway with: a bare FastAPI endpoint
doing the essential writes with raw asyncpg, (a) the gateway's own store statement alone, and
(b) store the raw body in an inbox and mark the payment paid. Served by uvicorn as
``bench.reference:reference_app`` with ``REFERENCE_DATABASE_URL`` set."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import AsyncIterator

import asyncpg
from fastapi import FastAPI, Request, Response

from payment_gateway.callback.repository import STORE_CALLBACK

REFERENCE_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench_reference;
CREATE TABLE bench_reference.payment (
    id uuid PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    status text NOT NULL,
    receipt_number text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bench_reference.inbox (
    id bigserial PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES bench_reference.payment(id),
    dedupe_key text NOT NULL UNIQUE,
    body bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
"""

# Store, then settle in place: the two writes of an inbox that credits inline.
_STORE = """
WITH target AS (SELECT id FROM bench_reference.payment WHERE token_hash = $1)
INSERT INTO bench_reference.inbox (payment_id, dedupe_key, body)
SELECT id, id::text || ':' || $2, $3 FROM target
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING payment_id
"""
_SETTLE = """
UPDATE bench_reference.payment SET status = 'completed', receipt_number = $2, updated_at = now()
WHERE id = $1 AND status = 'sent'
"""
ACK = b'{"ResultCode":0,"ResultDesc":"Accepted"}'


def reference_app() -> FastAPI:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(
            os.environ["REFERENCE_DATABASE_URL"], min_size=10, max_size=10
        )
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/events")
    async def events() -> Response:
        """A webhook subscriber that takes everything, for the worker phase."""
        return Response(status_code=204)

    @app.post("/same/{token}")
    async def same_writes(token: str, request: Request) -> Response:
        body = await request.body()
        assert pool is not None
        digest = hashlib.sha256(body).hexdigest()
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        # The gateway's own statement (store and announce), without the gateway around it.
        await pool.fetchrow(STORE_CALLBACK, token_hash, digest, body, None, "bench_reference")
        return Response(ACK, media_type="application/json")

    @app.post("/settle/{token}")
    async def store_and_settle(token: str, request: Request) -> Response:
        body = await request.body()
        assert pool is not None
        digest = hashlib.sha256(body).hexdigest()
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        payment_id = await pool.fetchval(_STORE, token_hash, digest, body)
        if payment_id is not None:
            stk = json.loads(body)["Body"]["stkCallback"]
            items = {i["Name"]: i.get("Value") for i in stk["CallbackMetadata"]["Item"]}
            await pool.execute(_SETTLE, payment_id, items["MpesaReceiptNumber"])
        return Response(ACK, media_type="application/json")

    return app

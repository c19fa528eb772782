"""`GET /v1/admin/payments/export.csv`: the header, every field, CSV quoting, Nairobi dates with
their offset, the list's filters, and 100,000 rows streamed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.console.export import HEADER
from session_api.models import AttemptStatus, UserRole
from tests.session_api.console.data import BASE, GatewayFacts, Rows
from tests.session_api.fixtures import Account, MakeAccount

EXPORT = "/v1/admin/payments/export.csv"


def parse(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body, newline="")))


async def test_every_field_quoted_with_nairobi_dates(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    client = await account(name='Wanjiku "Shiku" Kamau, Jr.')
    formula = await account(name="=HYPERLINK(1)")
    therapist = await account(role=UserRole.therapist, name="Dr Otieno, PhD")
    booking = await rows.booking(client.user, therapist.user)
    paid = await rows.attempt(booking, user=client.user, created_at=BASE, receipt="SKL1ABC234")
    order = await rows.order(formula.user)
    await rows.attempt(
        order,
        user=formula.user,
        created_at=BASE + timedelta(minutes=1),
        status=AttemptStatus.failed,
        reason="wrong_pin",
    )
    facts.fact(paid, verdict="matched", review_reason=None)

    response = await api.get(EXPORT, params={"from": BASE.isoformat()}, headers=staff.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="payments-')
    assert response.text.splitlines()[0] == ",".join(HEADER)
    assert '"Wanjiku ""Shiku"" Kamau, Jr."' in response.text  # RFC 4180 quoting
    exported = parse(response.text)
    assert [r["attempt_id"] for r in exported][1:] == [str(paid.id)]  # newest first
    session_row = exported[1]
    assert session_row["created_at"] == "2026-11-20T12:00:00+03:00"  # 09:00 UTC in Nairobi
    assert session_row["client_name"] == 'Wanjiku "Shiku" Kamau, Jr.'
    assert session_row["therapist_name"] == "Dr Otieno, PhD"
    assert session_row["session_at"] == "2026-11-25T12:00:00+03:00"
    assert session_row["receipt_number"] == "SKL1ABC234"
    assert session_row["reconciliation_verdict"] == "matched"
    assert session_row["amount_kes"] == "2500"
    assert session_row["phone"] == "254*****5678"
    assert exported[0]["client_name"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert (exported[0]["status"], exported[0]["reason"]) == ("failed", "wrong_pin")


async def test_the_export_honours_the_lists_filters(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    client = await account(name="Filter Person")
    order = await rows.order(client.user)
    kept = await rows.attempt(order, user=client.user, created_at=BASE, amount=700)
    await rows.attempt(order, user=client.user, created_at=BASE, amount=90, number=2)

    response = await api.get(
        EXPORT,
        params={"from": BASE.isoformat(), "amount_min": 100, "q": "filter person"},
        headers=staff.headers,
    )

    assert [r["attempt_id"] for r in parse(response.text)] == [str(kept.id)]


async def test_one_hundred_thousand_rows_stream_out(
    api: httpx.AsyncClient,
    staff: Account,
    rows: Rows,
    account: MakeAccount,
    facts: GatewayFacts,
    db_session: AsyncSession,
) -> None:
    client = await account(name="Bulk Buyer")
    order = await rows.order(client.user)
    await db_session.execute(
        text(
            """
            INSERT INTO sessions.payment_attempt (
                id, user_id, payable_type, payable_id, attempt_number, idempotency_key,
                gateway_payment_id, amount, phone_masked, status, gateway_status,
                customer_message, environment, created_at, updated_at)
            SELECT gen_random_uuid(), :user_id, 'order', :order_id, n, 'bulk:' || n,
                   gen_random_uuid()::text, 100 + n % 50, '254*****5678', 'paid', 'completed',
                   '', 'sandbox', CAST(:base AS timestamptz) + n * interval '1 second', :base
            FROM generate_series(1, 100000) AS n
            """
        ),
        {"user_id": client.user.id, "order_id": order.id, "base": BASE},
    )

    # ASGITransport hands the body over whole; that the server holds one batch at a time is
    # measured as peak RSS in `make bench` (console_export).
    lines = 0
    async with api.stream(
        "GET", EXPORT, params={"q": "Bulk Buyer"}, headers=staff.headers
    ) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_text():
            lines += chunk.count("\r\n")

    assert lines == 100_001  # the header and every row
    facts_calls = [r for r in facts.requests if r.url.path.endswith("/facts")]
    assert len(facts_calls) == 100  # one gateway call per batch of 1000

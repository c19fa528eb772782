"""The org-portal statement import: streamed in chunks, one record per receipt, a re-upload adds
nothing, bad lines reported with their numbers while the rest is kept."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.models import MpesaRecord
from payment_gateway.reconciliation import statement
from payment_gateway.reconciliation.exceptions import InvalidStatement
from tests.payment_gateway.reconciliation.ledger import receipt

HEADER = (
    "Receipt No.,Completion Time,Initiation Time,Details,Transaction Status,Paid In,Withdrawn,"
    "Balance,Balance Confirmed,Reason Type,Other Party Info,Linked Transaction ID,A/C No."
)


def line(number: str, *, paid_in: str = "1,500.00", when: str = "22-11-2026 05:30:28") -> str:
    party = "2547*****149 - JOHN KAMAU"
    details = f"Pay Bill Online from {party} Acc. ORDER-1"
    return (
        f'{number},{when},{when},{details},Completed,"{paid_in}",,"10,000.00",true,'
        f"Pay Bill Online,{party},,ORDER-1"
    )


def document(*rows: str) -> bytes:
    preamble = ["Organization Name,Simulated Paybill 174379", "Short Code,174379", ""]
    return "\r\n".join([*preamble, HEADER, *rows, ""]).encode()


async def chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def upload(session: AsyncSession, data: bytes) -> statement.ImportResult:
    return await statement.import_statement(
        session,
        chunks=chunks(data),
        filename="statement.csv",
        imported_by="test",
        settings=Settings(),
    )


async def test_lines_become_records_and_a_reupload_adds_nothing(db_session: AsyncSession) -> None:
    numbers = [receipt(), receipt()]
    data = document(*(line(n) for n in numbers))

    first = await upload(db_session, data)
    again = await upload(db_session, data)

    assert (first.statement.rows, first.statement.new, first.statement.duplicates) == (2, 2, 0)
    assert (again.statement.rows, again.statement.new, again.statement.duplicates) == (2, 0, 2)
    records = (
        (await db_session.execute(select(MpesaRecord).where(MpesaRecord.receipt.in_(numbers))))
        .scalars()
        .all()
    )
    assert len(records) == 2
    record = records[0]
    assert (record.amount, record.account_reference, record.phone_tail, record.status) == (
        1500,
        "ORDER-1",
        "149",
        "completed",
    )
    assert record.completed_at is not None
    assert record.completed_at.isoformat() == "2026-11-22T02:30:28+00:00"


async def test_bad_lines_are_reported_with_their_numbers_and_the_rest_kept(
    db_session: AsyncSession,
) -> None:
    good = receipt()
    data = document(
        line(good),
        line("", paid_in="10.00"),
        line(receipt(), paid_in="10.50"),
        line(receipt(), when="yesterday"),
    )

    result = await upload(db_session, data)

    assert (result.statement.rows, result.statement.new) == (4, 1)
    assert result.statement.rejected == [
        {"line": 6, "reason": "no Receipt No."},
        {"line": 7, "reason": "Paid In '10.50' is not a whole number of KES"},
        {"line": 8, "reason": "time 'yesterday' is neither dd-mm-yyyy HH:MM:SS nor ISO 8601"},
    ]


async def test_a_file_without_the_header_is_refused(db_session: AsyncSession) -> None:
    with pytest.raises(InvalidStatement, match=r"Receipt No\."):
        await upload(db_session, b"name,amount\nx,1\n" * 40)


@given(st.text(alphabet="0123456789*- ABCDEFGHJK", max_size=40))
def test_phone_tail_is_three_digits_or_nothing(text: str) -> None:
    tail = statement.phone_tail(text)
    assert tail is None or (len(tail) == 3 and tail.isdigit())

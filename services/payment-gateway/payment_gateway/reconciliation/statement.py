"""Importing the M-Pesa org-portal statement (CSV): read as a stream in batches, never whole;
each line becomes an M-Pesa record, once per receipt (a re-upload adds nothing and says so);
a line that cannot be read is reported with its line number and the rest is kept.

Safaricom publishes no column spec. What is read: the header row (after any preamble) must name
`Receipt No.`, `Completion Time`, `Transaction Status` and `Paid In`; `Withdrawn`, `Details`,
`Other Party Info` and `A/C No.` are used when present. Times are `dd-mm-yyyy HH:MM[:SS]` or ISO
8601, Nairobi time unless they carry an offset; amounts may have thousands separators.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import re
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import NAIROBI
from payment_gateway.models import RecordSource, StatementImport
from payment_gateway.reconciliation.bulk_sql import StagedRecord
from payment_gateway.reconciliation.exceptions import InvalidStatement, StatementTooLarge
from payment_gateway.reconciliation.repository import RecordRepository, StatementImportRepository

REQUIRED = ("Receipt No.", "Completion Time", "Transaction Status", "Paid In")
# The org-portal export's 13 columns (what the simulator and the benchmark write).
REQUIRED_HEADER = (
    "Receipt No.",
    "Completion Time",
    "Initiation Time",
    "Details",
    "Transaction Status",
    "Paid In",
    "Withdrawn",
    "Balance",
    "Balance Confirmed",
    "Reason Type",
    "Other Party Info",
    "Linked Transaction ID",
    "A/C No.",
)
HEADER_SEARCH_LINES = 30
# Lines stored per statement (COPY into staging, one INSERT ... SELECT): big batches, while
# the next chunk is parsed.
BATCH_ROWS = 20_000
REJECTED_LISTED = 1000
_ACCOUNT = re.compile(r"\bAcc\.\s*(\S.*?)\s*$")
_PHONE = re.compile(r"(2547|2541|07|01)[0-9*\s]{5,}")
# The org portal's own format, read without `strptime` (a third of the import's time).
_DAY_FIRST = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4}) (\d{1,2}):(\d{1,2})(?::(\d{1,2}))?")
_TIME_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


class BadRow(ValueError):
    """A line that cannot be read; its message says why."""


@dataclass
class ImportResult:
    statement: StatementImport
    rejected: list[dict[str, Any]] = field(default_factory=list)


def parse_time(value: str) -> datetime:
    text = value.strip()
    quick = _DAY_FIRST.fullmatch(text)
    if quick is not None:
        day, _, month, year, hour, minute, second = quick.groups()
        try:
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second or 0),
                tzinfo=NAIROBI,
            )
        except ValueError:
            pass  # the formats below say why
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=NAIROBI)
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRow(f"time {text!r} is neither dd-mm-yyyy HH:MM:SS nor ISO 8601") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=NAIROBI)


def parse_amount(value: str, column: str) -> int | None:
    text = value.strip().replace(",", "").lstrip("-")
    if not text:
        return None
    whole, dot, cents = text.partition(".")
    if whole.isascii() and whole.isdigit() and (not dot or cents in ("00", "0")):
        return int(whole)  # the usual "1,234.00", without Decimal
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadRow(f"{column} {value.strip()!r} is not an amount") from None
    if amount != amount.to_integral_value():
        raise BadRow(f"{column} {value.strip()!r} is not a whole number of KES")
    return int(amount)


def phone_tail(*texts: str) -> str | None:
    """The last three digits of the payer's phone as the statement prints it (masked)."""
    for text in texts:
        match = _PHONE.search(text)
        if match:
            digits = match.group(0).rstrip(" *")
            if len(digits) >= 3 and digits[-3:].isdigit():
                return digits[-3:]
    return None


@dataclass(frozen=True)
class Columns:
    index: dict[str, int]

    def get(self, row: list[str], name: str) -> str:
        position = self.index.get(name)
        return row[position] if position is not None and position < len(row) else ""


def read_row(
    row: list[str], columns: Columns, *, shortcode: str, line: int, statement_id: uuid.UUID
) -> StagedRecord:
    """One statement line as an M-Pesa record's values (in `RecordRepository.copy_many`'s
    order), or `BadRow`."""
    receipt = columns.get(row, "Receipt No.").strip()
    if not receipt:
        raise BadRow("no Receipt No.")
    if len(receipt) > 32:
        raise BadRow(f"Receipt No. {receipt[:40]!r} is longer than 32 characters")
    paid_in = parse_amount(columns.get(row, "Paid In"), "Paid In")
    withdrawn = parse_amount(columns.get(row, "Withdrawn"), "Withdrawn")
    if paid_in is None and withdrawn is None:
        raise BadRow("neither Paid In nor Withdrawn has an amount")
    status = columns.get(row, "Transaction Status").strip().lower() or "unknown"
    details = columns.get(row, "Details")
    account = columns.get(row, "A/C No.").strip()
    if not account:
        found = _ACCOUNT.search(details)
        account = found.group(1) if found else ""
    return (
        RecordSource.statement.value,
        receipt,
        shortcode,
        # Money out (charges, withdrawals) is kept but never matched: only money in is.
        status if paid_in is not None else "withdrawal",
        None,
        paid_in if paid_in is not None else withdrawn,
        phone_tail(columns.get(row, "Other Party Info"), details),
        account[:64] or None,
        None,
        parse_time(columns.get(row, "Completion Time")),
        None,
        statement_id,
        # The raw JSON `{"line", "details"}`, written without `json.dumps` (a sixth of the time).
        f'{{"line": {line}, "details": {encode_basestring(details)}}}',
    )


class _Lines:
    """Bytes arriving in chunks as text lines for `csv.reader`, decoded incrementally."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._partial = ""
        self.ready: deque[str] = deque()

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        text = self._partial + self._decoder.decode(chunk, final=final)
        lines = text.splitlines(keepends=True)
        # A line ending in "\r" may still get its "\n" from the next chunk.
        if final or not lines or lines[-1].endswith("\n"):
            self._partial = ""
        else:
            self._partial = lines.pop()
        self.ready.extend(lines)

    def __iter__(self) -> Iterator[str]:
        while self.ready:
            yield self.ready.popleft()


async def import_statement(
    session: AsyncSession,
    *,
    chunks: AsyncIterator[bytes],
    filename: str | None,
    imported_by: str,
    settings: Settings,
) -> ImportResult:
    """Read the statement from `chunks` and store its lines as M-Pesa records."""
    statement = StatementImport(
        id=uuid.uuid4(), filename=(filename or "")[:255] or None, imported_by=imported_by
    )
    statement.rows, statement.new, statement.duplicates = 0, 0, 0
    await StatementImportRepository.from_session(session).create(statement, flush=True)
    result = ImportResult(statement)
    reader = _Reader(settings=settings, statement_id=statement.id)
    size = 0
    rows: list[StagedRecord] = []
    storing: asyncio.Task[None] | None = None

    async def parsed(chunk: bytes, final: bool = False) -> None:
        nonlocal rows, storing
        batch, rejected = await asyncio.to_thread(reader.feed, chunk, final)
        result.rejected.extend(rejected)
        result.statement.rows += len(rejected)
        rows.extend(batch)
        if len(rows) >= BATCH_ROWS or final:
            # The batch is stored while the next chunks are parsed (one statement at a time).
            if storing is not None:
                await storing
            storing = asyncio.create_task(_store(session, result, rows))
            rows = []

    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > settings.RECONCILIATION_STATEMENT_MAX_BYTES:
                raise StatementTooLarge(
                    "a statement may be at most "
                    f"{settings.RECONCILIATION_STATEMENT_MAX_BYTES} bytes"
                )
            await parsed(chunk)
        await parsed(b"", final=True)
    finally:
        if storing is not None:
            await storing
    if reader.columns is None:
        raise InvalidStatement(
            f"no header row naming {', '.join(REQUIRED)} in the first {HEADER_SEARCH_LINES} "
            "lines: is this an org-portal statement export (CSV)?"
        )
    statement.rejected = result.rejected[:REJECTED_LISTED]
    await session.flush()
    return result


async def _store(session: AsyncSession, result: ImportResult, rows: list[StagedRecord]) -> None:
    statement = result.statement
    statement.rows += len(rows)
    new = await RecordRepository.from_session(session).copy_many(rows)
    statement.new += new
    statement.duplicates += len(rows) - new


class _Reader:
    """The CSV state between chunks: the header once found, the line count."""

    def __init__(self, *, settings: Settings, statement_id: uuid.UUID) -> None:
        self.statement_id = statement_id
        self.shortcode = settings.DARAJA_SHORTCODE
        self.lines = _Lines()
        self.columns: Columns | None = None
        self.line = 0

    def feed(
        self, chunk: bytes, final: bool = False
    ) -> tuple[list[StagedRecord], list[dict[str, Any]]]:
        self.lines.feed(chunk, final=final)
        rows: list[StagedRecord] = []
        rejected: list[dict[str, Any]] = []
        for row in csv.reader(self.lines):
            self.line += 1
            if self.columns is None:
                self._header_or_preamble(row)
                continue
            if not "".join(row).strip():
                continue
            try:
                rows.append(
                    read_row(
                        row,
                        self.columns,
                        shortcode=self.shortcode,
                        line=self.line,
                        statement_id=self.statement_id,
                    )
                )
            except BadRow as e:
                rejected.append({"line": self.line, "reason": str(e)})
        return rows, rejected

    def _header_or_preamble(self, row: list[str]) -> None:
        names = [cell.strip() for cell in row]
        if all(required in names for required in REQUIRED):
            self.columns = Columns({name: names.index(name) for name in names if name})
            return
        if len(names) >= 2 and names[0].lower().replace(" ", "") == "shortcode" and names[1]:
            self.shortcode = names[1]
        if self.line >= HEADER_SEARCH_LINES:
            raise InvalidStatement(
                f"no header row naming {', '.join(REQUIRED)} in the first "
                f"{HEADER_SEARCH_LINES} lines"
            )

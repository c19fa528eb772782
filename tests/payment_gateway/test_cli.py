"""`python -m payment_gateway.cli reconcile`: a statement imported and reconciled in one go,
with the summary at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from payment_gateway import cli
from tests.payment_gateway.reconciliation.ledger import receipt

HEADER = (
    "Receipt No.,Completion Time,Initiation Time,Details,Transaction Status,Paid In,Withdrawn,"
    "Balance,Balance Confirmed,Reason Type,Other Party Info,Linked Transaction ID,A/C No."
)


@pytest.fixture(autouse=True)
def empty(clean_database: None) -> None:
    """The CLI commits: every table is emptied before and after."""


def test_reconcile_imports_the_statement_and_prints_the_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "statement.csv"
    line = (
        f"{receipt()},01-03-2001 10:00:00,01-03-2001 10:00:00,Pay Bill,Completed,250.00,,,,,,,X-1"
    )
    path.write_text(f"{HEADER}\n{line}\nbad,line,,,Completed,,,,,,,,\n")

    code = cli.main(
        [
            "reconcile",
            "--from",
            "2001-03-01T00:00:00+03:00",
            "--to",
            "2001-03-02T00:00:00+03:00",
            "--statement",
            str(path),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0, out
    assert "statement: 2 rows, 1 new, 0 duplicates, 1 rejected" in out
    assert "line 3: neither Paid In nor Withdrawn has an amount" in out
    assert ": completed" in out
    [unmatched] = [row for row in out.splitlines() if row.strip().startswith("unmatched_mpesa")]
    assert unmatched.split()[-1] == "1"


def test_a_window_without_an_offset_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["reconcile", "--from", "2001-03-01T00:00", "--to", "2001-03-02T00:00+03:00"])

    assert "needs a UTC offset" in capsys.readouterr().err

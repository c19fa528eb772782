from __future__ import annotations

from typing import Any

import structlog
from prometheus_client import Gauge

from session_api.tasks import registry
from session_api.wallet import service as wallet_service
from shared.worker import task_session

log = structlog.get_logger(__name__)

WALLET_MISMATCHES = Gauge(
    "session_wallet_mismatches", "Wallets whose balance differs from the sum of their ledger."
)


@registry.task("wallet.check_consistency", max_tries=1, timeout_s=300)
async def check_consistency(ctx: dict[str, Any]) -> int:
    """Compare every wallet's balance with the sum of its ledger; log and count mismatches."""
    async with task_session(ctx) as session:
        problems = await wallet_service.find_inconsistencies(session)
    for problem in problems:
        log.error(
            "wallet_balance_mismatch",
            wallet_id=str(problem.wallet_id),
            balance=problem.balance,
            ledger_sum=problem.ledger_sum,
        )
    WALLET_MISMATCHES.set(len(problems))
    return len(problems)

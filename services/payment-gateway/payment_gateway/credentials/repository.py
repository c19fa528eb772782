"""All SQL of stored credentials and the gateway's run-time settings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from payment_gateway.models import DarajaCredential, GatewaySetting, Payment
from shared.repository import RepositoryBase


class DarajaCredentialRepository(RepositoryBase[DarajaCredential]):
    model = DarajaCredential

    async def for_environment(
        self, environment: str, *, for_update: bool = False
    ) -> DarajaCredential | None:
        statement = self.select().where(DarajaCredential.environment == environment)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def every(self, *, for_update: bool = False) -> Sequence[DarajaCredential]:
        statement = self.select().order_by(DarajaCredential.environment)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_all(statement)

    async def latest_checkout_request_id(self, environment: str) -> str | None:
        """The CheckoutRequestID of the newest payment Daraja accepted in ``environment``."""
        statement = (
            select(Payment.checkout_request_id)
            .where(Payment.environment == environment, Payment.checkout_request_id.is_not(None))
            .order_by(Payment.created_at.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()


class GatewaySettingRepository(RepositoryBase[GatewaySetting]):
    model = GatewaySetting

    async def current(self, *, for_update: bool = False) -> GatewaySetting | None:
        return await self.get_by_id(1, for_update=for_update)

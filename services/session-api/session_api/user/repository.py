from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from session_api.models import User, UserRole, Wallet
from shared.repository import RepositoryBase


class UserRepository(RepositoryBase[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def active_admin_ids(self) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(User.id).where(User.role == UserRole.admin, User.is_active.is_(True))
        )
        return list(rows)

    async def active_staff_ids(self) -> list[uuid.UUID]:
        """Active staff members and admins (who resolve reconciliation exceptions)."""
        rows = await self.session.scalars(
            select(User.id)
            .where(User.role.in_([UserRole.staff, UserRole.admin]), User.is_active.is_(True))
            .order_by(User.created_at, User.id)
        )
        return list(rows)

    async def add(self, user: User) -> User | None:
        """Insert the account with its empty wallet, or return None when the e-mail address is
        taken (also by a concurrent insert). The wallet row is written here, not by the wallet
        domain, because the wallet domain depends on accounts (through auth), not the reverse."""
        user.id = user.id or uuid.uuid4()
        try:
            async with self.session.begin_nested():
                self.session.add(user)
                await self.session.flush()
                self.session.add(Wallet(id=uuid.uuid4(), user_id=user.id, balance=0))
        except IntegrityError:
            return None
        return user

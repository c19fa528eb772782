"""Creating accounts. Passwords arrive already hashed (the auth domain owns hashing)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import User, UserRole
from session_api.user.exceptions import EmailTaken
from session_api.user.repository import UserRepository


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    full_name: str,
    role: UserRole,
    phone: str | None = None,
) -> User:
    user = await UserRepository.from_session(session).add(
        User(
            email=email,
            password_hash=password_hash,
            full_name=full_name,
            role=role,
            phone=phone,
            is_active=True,
        )
    )
    if user is None:
        raise EmailTaken(f"email: an account with {email} already exists; log in instead")
    return user


async def get_user(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await UserRepository.from_session(session).get_by_id(user_id)


async def get_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await UserRepository.from_session(session).get_by_email(email)


async def update_profile(
    session: AsyncSession,
    *,
    user: User,
    full_name: str | None,
    phone: str | None,
    change_phone: bool,
) -> User:
    if full_name is not None:
        user.full_name = full_name
    if change_phone:
        user.phone = phone
    await session.flush()
    return user


async def staff_ids(session: AsyncSession) -> list[uuid.UUID]:
    """The shop's staff: every active admin."""
    return await UserRepository.from_session(session).active_admin_ids()

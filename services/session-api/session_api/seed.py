"""Demo data for development: an admin, a therapist, a client and a few products. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from session_api.auth import service as auth_service
from session_api.config import Settings
from session_api.models import UserRole
from session_api.product import service as product_service
from session_api.therapist import service as therapist_service
from session_api.therapist.schemas import TherapistCreate
from session_api.user import service as user_service

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    full_name: str
    role: UserRole


DEMO_ADMIN = DemoAccount("admin@demo.test", "demo-admin-pass", "Demo Admin", UserRole.admin)
DEMO_STAFF = DemoAccount("staff@demo.test", "demo-staff-pass", "Demo Staff", UserRole.staff)
DEMO_THERAPIST = DemoAccount(
    "therapist@demo.test", "demo-therapist-pass", "Dr. Wanjiku Demo", UserRole.therapist
)
DEMO_CLIENT = DemoAccount("client@demo.test", "demo-client-pass", "Otieno Demo", UserRole.client)
DEMO_ACCOUNTS = (DEMO_ADMIN, DEMO_STAFF, DEMO_THERAPIST, DEMO_CLIENT)
DEMO_THERAPIST_RATE = 2_500
DEMO_PRODUCTS = (
    ("JOURNAL-A5", "Guided reflection journal", "A5, 120 pages of prompts.", 1_200),
    ("BREATH-CARDS", "Breathing exercise cards", "30 cards for calm, anywhere.", 800),
    ("SLEEP-MASK", "Weighted sleep mask", "Lavender-scented, washable.", 1_500),
    ("STRESS-BALL", "Stress ball set", "Three densities.", 450),
)


async def ensure_account(session: AsyncSession, settings: Settings, account: DemoAccount) -> bool:
    """Create the account unless its e-mail address exists; True if it was created."""
    if await user_service.get_by_email(session, email=account.email) is not None:
        return False
    if account.role is UserRole.therapist:
        await therapist_service.create_therapist(
            session,
            settings=settings,
            request=TherapistCreate(
                email=account.email,
                password=account.password,
                full_name=account.full_name,
                session_rate=DEMO_THERAPIST_RATE,
                bio="Counselling psychologist: anxiety, stress and life transitions.",
                specialties=["anxiety", "stress"],
            ),
        )
    else:
        await user_service.create_user(
            session,
            email=account.email,
            password_hash=await auth_service.hash_password(settings, account.password),
            full_name=account.full_name,
            role=account.role,
        )
    return True


async def seed_demo_data(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    if not settings.is_development:
        raise RuntimeError(
            f"demo data is for development only; ENVIRONMENT is {settings.ENVIRONMENT.value}"
        )
    async with sessionmaker() as session, session.begin():
        created = [
            account.email
            for account in DEMO_ACCOUNTS
            if await ensure_account(session, settings, account)
        ]
        for sku, name, product_description, price in DEMO_PRODUCTS:
            await product_service.ensure_product(
                session, sku=sku, name=name, description=product_description, price=price
            )
    log.info("demo_data_seeded", created=created)

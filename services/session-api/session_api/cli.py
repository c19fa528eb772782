"""`python -m session_api.cli`: operator commands.

create-admin --email E [--name N]   create an admin (password from --password, the
                                    SESSION_API_ADMIN_PASSWORD variable, or a prompt)
seed                                demo users and products (development only; idempotent)
check-wallets                       every wallet's balance against its ledger; exit 1 on a
                                    mismatch
audit verify [--from SEQ|TIME]      recompute the audit chain and check every signed checkpoint;
                                    exit 1 when broken (also: audit chain | checkpoint | archive)
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from pydantic import ValidationError

from session_api.audit import service as audit_service
from session_api.auth import service as auth_service
from session_api.auth.schemas import RegisterRequest
from session_api.config import Settings
from session_api.models import UserRole
from session_api.seed import DEMO_ACCOUNTS, seed_demo_data
from session_api.user import service as user_service
from session_api.user.exceptions import EmailTaken
from session_api.wallet import service as wallet_service
from shared import db
from shared.audit import cli as audit_cli


def _sessionmaker(settings: Settings):  # type: ignore[no-untyped-def]
    engine = db.create_engine(settings.DATABASE_URL, pool_size=2, max_overflow=0)
    return engine, db.create_sessionmaker(engine)


async def create_admin(settings: Settings, *, email: str, password: str, name: str) -> int:
    try:
        request = RegisterRequest(email=email, password=password, full_name=name)
    except ValidationError as e:
        for error in e.errors():
            print(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", file=sys.stderr)
        return 2
    engine, sessionmaker = _sessionmaker(settings)
    try:
        async with sessionmaker() as session, session.begin():
            user = await user_service.create_user(
                session,
                email=request.email,
                password_hash=await auth_service.hash_password(settings, request.password),
                full_name=request.full_name,
                role=UserRole.admin,
            )
    except EmailTaken as e:
        print(e.message, file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"admin {user.email} created ({user.id})")
    return 0


async def seed(settings: Settings) -> int:
    engine, sessionmaker = _sessionmaker(settings)
    try:
        await seed_demo_data(sessionmaker, settings)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print("demo data in place: " + ", ".join(account.email for account in DEMO_ACCOUNTS))
    return 0


async def check_wallets(settings: Settings) -> int:
    engine, sessionmaker = _sessionmaker(settings)
    try:
        async with sessionmaker() as session:
            problems = await wallet_service.find_inconsistencies(session)
    finally:
        await engine.dispose()
    for problem in problems:
        print(
            f"wallet {problem.wallet_id}: balance {problem.balance} != ledger sum "
            f"{problem.ledger_sum}"
        )
    print("every wallet matches its ledger" if not problems else f"{len(problems)} mismatched")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m session_api.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.add_argument("--password", help="prefer SESSION_API_ADMIN_PASSWORD or the prompt")
    commands.add_parser("seed", help="demo users and products (development only)")
    commands.add_parser("check-wallets", help="compare each wallet's balance with its ledger")
    audit_cli.add_commands(commands)
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "audit":
        return asyncio.run(
            audit_cli.run(args, audit_trail=audit_service.TRAIL, settings=settings, out=sys.stdout)
        )
    if args.command == "create-admin":
        password = (
            args.password
            or os.environ.get("SESSION_API_ADMIN_PASSWORD")
            or getpass.getpass("password: ")
        )
        return asyncio.run(
            create_admin(settings, email=args.email, password=password, name=args.name)
        )
    if args.command == "seed":
        return asyncio.run(seed(settings))
    return asyncio.run(check_wallets(settings))


if __name__ == "__main__":
    sys.exit(main())

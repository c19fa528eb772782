"""`X-Acting-User` names the person acting by id only: the timeline, refunds and the audit trail
are permanent, so an e-mail address a caller adds after the id is dropped."""

from __future__ import annotations

import pytest

from payment_gateway.auth.service import Principal
from payment_gateway.models import EventSource
from payment_gateway.review.dependencies import acting_user
from payment_gateway.review.exceptions import MissingActingUser

SESSION_API = Principal(name="key-0123456789ab")
USER_ID = "8d1c0b5e-0000-4000-8000-000000000003"


@pytest.mark.parametrize(
    "header", [f"user:{USER_ID}", USER_ID, f"{USER_ID} ops@example.com", f" user:{USER_ID} x "]
)
async def test_the_actor_is_the_user_id_and_nothing_else(header: str) -> None:
    actor = await acting_user(SESSION_API, header)

    assert (actor.source, actor.name, actor.user_id) == (
        EventSource.admin,
        f"user:{USER_ID}",
        USER_ID,
    )
    assert actor.detail() == {"acting_user_id": USER_ID, "via": SESSION_API.name}
    assert "@" not in repr(actor)


@pytest.mark.parametrize("header", [None, "", "   ", "user:", "user:\x00"])
async def test_no_user_id_is_refused(header: str | None) -> None:
    with pytest.raises(MissingActingUser):
        await acting_user(SESSION_API, header)

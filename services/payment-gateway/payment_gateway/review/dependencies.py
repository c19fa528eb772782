"""Who acts: staff actions arrive with the service key of the app that staff use and the
`X-Acting-User` header naming the person, so the timeline records a person, not a service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.models import EventSource
from payment_gateway.payment.lifecycle import Actor
from payment_gateway.review.exceptions import MissingActingUser

ACTOR_MAX = 64
USER_PREFIX = "user:"


async def acting_user(
    principal: ServiceDep,
    x_acting_user: Annotated[
        str | None,
        Header(
            max_length=320,
            description="`user:<user id>` of the person acting, as the calling service knows "
            "them; recorded on the payment's timeline.",
        ),
    ] = None,
) -> Actor:
    value = (x_acting_user or "").strip()
    if not value or not value.isprintable():
        raise MissingActingUser(
            "send X-Acting-User: 'user:<user id>' of the person acting (printable text)"
        )
    # Only the id is kept: the timeline, refunds and the audit trail are permanent, and anything
    # after it (callers once sent an e-mail address there) would outlive the person's erasure.
    user_id = value.split()[0].removeprefix(USER_PREFIX)[: ACTOR_MAX - len(USER_PREFIX)]
    if not user_id:
        raise MissingActingUser("X-Acting-User names no user id: send 'user:<user id>'")
    return Actor(EventSource.admin, f"{USER_PREFIX}{user_id}", user_id=user_id, via=principal.name)


ActingUserDep = Annotated[Actor, Depends(acting_user)]

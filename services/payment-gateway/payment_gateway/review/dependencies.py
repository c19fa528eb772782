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


async def acting_user(
    principal: ServiceDep,
    x_acting_user: Annotated[
        str | None,
        Header(
            max_length=320,
            description="`<user id> <email>` of the person acting, as the calling service knows "
            "them; recorded on the payment's timeline.",
        ),
    ] = None,
) -> Actor:
    value = (x_acting_user or "").strip()
    if not value or not value.isprintable():
        raise MissingActingUser(
            "send X-Acting-User: '<user id> <email>' of the person acting (printable text)"
        )
    user_id, _, email = value.partition(" ")
    # The email names the person on the timeline; the id is kept in full in the event detail.
    name = (email.strip() or user_id)[:ACTOR_MAX]
    return Actor(EventSource.admin, name, user_id=user_id[:ACTOR_MAX], via=principal.name)


ActingUserDep = Annotated[Actor, Depends(acting_user)]

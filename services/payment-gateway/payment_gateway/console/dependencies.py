"""The acting person behind a console request: session-api passes its staff user in
`X-Acting-User`, so the gateway's logs (and any action it records) name who did what, not only
which service key called."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Header

from payment_gateway.auth.dependencies import ServiceDep


async def acting_user(
    principal: ServiceDep,
    x_acting_user: Annotated[
        str,
        Header(
            min_length=1,
            max_length=64,
            pattern=r"^[\x21-\x7e]+$",
            description="Who is acting, as the calling service names them (e.g. `user:<id>`).",
        ),
    ],
) -> str:
    structlog.contextvars.bind_contextvars(acting_user=x_acting_user, principal=principal.name)
    return x_acting_user


ActingUser = Annotated[str, Depends(acting_user)]

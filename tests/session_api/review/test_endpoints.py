"""Who may take the staff actions on a payment (review, refund): staff and admins; clients and
therapists are refused, unauthenticated callers too. The actions themselves, against the real
gateway, are in the flow tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from session_api.models import UserRole

ACTIONS = [
    ("review", {"decision": "accept", "note": "checked"}),
    ("refund", {"reason": "paid twice"}),
]


@pytest.mark.parametrize(("action", "body"), ACTIONS)
@pytest.mark.parametrize("role", [UserRole.client, UserRole.therapist])
async def test_clients_and_therapists_are_refused(
    api: httpx.AsyncClient, account: Any, role: UserRole, action: str, body: dict[str, Any]
) -> None:
    user = await account(role=role)

    response = await api.post(
        f"/v1/admin/payments/{uuid.uuid4()}/{action}", json=body, headers=user.headers
    )

    assert response.status_code == 403
    assert response.json()["error"] == "RoleRequired"


@pytest.mark.parametrize(("action", "body"), ACTIONS)
async def test_unauthenticated_callers_are_refused(
    api: httpx.AsyncClient, action: str, body: dict[str, Any]
) -> None:
    response = await api.post(f"/v1/admin/payments/{uuid.uuid4()}/{action}", json=body)

    assert response.status_code == 401


@pytest.mark.parametrize(("action", "body"), ACTIONS)
@pytest.mark.parametrize("role", [UserRole.staff, UserRole.admin])
async def test_staff_get_404_for_an_unknown_attempt(
    api: httpx.AsyncClient, account: Any, role: UserRole, action: str, body: dict[str, Any]
) -> None:
    user = await account(role=role)

    response = await api.post(
        f"/v1/admin/payments/{uuid.uuid4()}/{action}", json=body, headers=user.headers
    )

    assert response.status_code == 404
    assert response.json()["error"] == "AttemptNotFound"

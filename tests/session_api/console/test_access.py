"""Acceptance 3: every `/v1/admin/` route refuses clients and therapists, and every admin-only
route refuses staff. The routes are read from the app itself, so a route added later is covered
without touching this file."""

from __future__ import annotations

import typing
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from session_api.auth.dependencies import CurrentAdmin, CurrentStaff
from session_api.models import UserRole
from tests.session_api.fixtures import MakeAccount

REFUSED = {403, 404}


def _check_of(alias: Any) -> Any:
    return typing.get_args(alias)[1].dependency


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI keeps an included router whole (not copied route by route) in new versions.
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def admin_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """Every admin operation with its route, checked against the OpenAPI document so a change
    in how FastAPI keeps routes cannot make this list silently shorter."""
    found = [
        (method, route.path, route)
        for route in _api_routes(app.routes)
        if route.path.startswith("/v1/admin/")
        for method in sorted(route.methods or ())
    ]
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/admin/")
        for method in operations
    }
    assert {(method, path) for method, path, _ in found} == documented
    return found


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _url(path: str) -> str:
    # Any id will do: the role is checked before anything is looked up.
    return path.format(**{name: uuid.uuid4() for name in _placeholders(path)})


def _placeholders(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


async def _call(api: httpx.AsyncClient, method: str, path: str, token: str) -> httpx.Response:
    return await api.request(
        method,
        _url(path),
        headers={"Authorization": f"Bearer {token}"},
        json={} if method in ("POST", "PUT", "PATCH") else None,
    )


def test_every_admin_route_requires_staff_or_admin(app: FastAPI) -> None:
    allowed = {_check_of(CurrentStaff), _check_of(CurrentAdmin)}
    unguarded = [
        f"{method} {path}"
        for method, path, route in admin_routes(app)
        if not allowed & set(_calls(route.dependant))
    ]
    assert unguarded == []


async def test_clients_and_therapists_are_refused_on_every_admin_route(
    app: FastAPI, api: httpx.AsyncClient, account: MakeAccount
) -> None:
    routes = list(admin_routes(app))
    assert any(path == "/v1/admin/payments" for _, path, _ in routes)  # the walk sees ours
    for role in (UserRole.client, UserRole.therapist):
        user = await account(role=role)
        for method, path, _ in routes:
            response = await _call(api, method, path, user.token)
            assert response.status_code in REFUSED, (role, method, path, response.text)


async def test_staff_are_refused_on_admin_only_routes(
    app: FastAPI, api: httpx.AsyncClient, account: MakeAccount
) -> None:
    admin_only = [
        (method, path)
        for method, path, route in admin_routes(app)
        if _check_of(CurrentAdmin) in set(_calls(route.dependant))
    ]
    assert admin_only  # settings and users: e.g. creating a therapist
    staff = await account(role=UserRole.staff)
    for method, path in admin_only:
        response = await _call(api, method, path, staff.token)
        # 403 even for an id that names nothing: the role is checked before any lookup.
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "RoleRequired", (method, path)

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.auth import service as auth_service
from session_api.config import Settings
from session_api.models import User, UserRole
from tests.session_api.fixtures import PASSWORD, MakeAccount


class TestRegister:
    async def test_creates_a_client_with_a_wallet(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/v1/auth/register",
            json={
                "email": "  Amina@Example.COM ",
                "password": PASSWORD,
                "full_name": "Amina W",
                "phone": "+254 712-345-678",
            },
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["email"] == "amina@example.com"
        assert body["role"] == "client"
        assert body["phone"] == "254712345678"
        assert "password" not in str(body)
        token = (
            await api.post(
                "/v1/auth/login", json={"email": "amina@example.com", "password": PASSWORD}
            )
        ).json()["access_token"]
        wallet = await api.get("/v1/wallet", headers={"Authorization": f"Bearer {token}"})
        assert wallet.json()["balance"] == 0

    async def test_a_taken_email_is_409(self, api: httpx.AsyncClient) -> None:
        body = {"email": "dup@example.com", "password": PASSWORD, "full_name": "One"}
        await api.post("/v1/auth/register", json=body)

        response = await api.post("/v1/auth/register", json={**body, "email": "DUP@example.com"})

        assert response.status_code == 409
        assert response.json()["error"] == "EmailTaken"
        assert response.json()["detail"].startswith("email:")

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("email", "not-an-email"),
            ("password", "short"),
            ("full_name", ""),
            ("phone", "12345"),
            ("email", "ok\x00@example.com"),
            ("password", "correct horse\x00"),
            ("full_name", "Amina\x00"),
            ("full_name", "Amina\nW"),
            ("phone", "0712\x00345678"),
            ("phone", "07\u0661\u0662345678"),
        ],
    )
    async def test_bad_input_names_the_field(
        self, api: httpx.AsyncClient, field: str, value: str
    ) -> None:
        body = {"email": "ok@example.com", "password": PASSWORD, "full_name": "Ok", field: value}

        response = await api.post("/v1/auth/register", json=body)

        assert response.status_code == 422
        assert field in response.json()["detail"]
        assert [f["field"] for f in response.json()["fields"]] == [f"body.{field}"]

    async def test_an_unknown_field_is_refused_not_ignored(self, api: httpx.AsyncClient) -> None:
        body = {"email": "ok@example.com", "password": PASSWORD, "full_name": "Ok"}

        response = await api.post("/v1/auth/register", json={**body, "role": "admin"})

        assert response.status_code == 422
        assert [f["field"] for f in response.json()["fields"]] == ["body.role"]

    async def test_a_lone_surrogate_is_refused(self, api: httpx.AsyncClient) -> None:
        # Valid JSON that decodes to a string UTF-8 cannot encode (so PostgreSQL cannot store).
        body = b'{"email": "ok@example.com", "password": "%s", "full_name": "Amina \\ud800"}'

        response = await api.post(
            "/v1/auth/register",
            content=body % PASSWORD.encode(),
            headers={"content-type": "application/json"},
        )

        assert response.status_code == 422
        assert [f["field"] for f in response.json()["fields"]] == ["body.full_name"]

    async def test_a_body_that_is_not_json_is_a_400(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/v1/auth/register", content=b'{"email": ', headers={"content-type": "application/json"}
        )

        assert response.status_code == 400
        assert response.json()["error"] == "MalformedJSON"

    async def test_the_stored_password_is_an_argon2id_hash(
        self, api: httpx.AsyncClient, db_session: AsyncSession
    ) -> None:
        await api.post(
            "/v1/auth/register",
            json={"email": "hash@example.com", "password": PASSWORD, "full_name": "H"},
        )
        stored = await db_session.scalar(
            select(User.password_hash).where(User.email == "hash@example.com")
        )
        assert stored is not None
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored


class TestLogin:
    async def test_returns_a_bearer_token_that_names_the_user(
        self, api: httpx.AsyncClient, account: MakeAccount, settings: Settings
    ) -> None:
        therapist = await account(role=UserRole.therapist)

        response = await api.post(
            "/v1/auth/login", json={"email": therapist.user.email, "password": PASSWORD}
        )

        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == settings.ACCESS_TOKEN_TTL_S
        me = await api.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["id"] == therapist.id
        assert me.json()["role"] == "therapist"

    @pytest.mark.parametrize("case", ["wrong password", "unknown email", "malformed email"])
    async def test_wrong_credentials_are_401_without_saying_which(
        self, api: httpx.AsyncClient, account: MakeAccount, case: str
    ) -> None:
        client = await account()
        email = {
            "wrong password": client.user.email,
            "unknown email": "nobody@example.com",
            "malformed email": "nobody",
        }[case]
        password = "wrong password" if case == "wrong password" else PASSWORD

        response = await api.post("/v1/auth/login", json={"email": email, "password": password})

        assert response.status_code == 401
        assert response.json() == {
            "error": "InvalidCredentials",
            "detail": "wrong e-mail address or password",
        }

    @pytest.mark.parametrize(
        "body",
        [
            {"email": "nobody\x00@example.com", "password": PASSWORD},
            {"email": "nobody@example.com", "password": "wrong\x00password"},
            {"email": "nobody@example.com", "password": PASSWORD, "remember": True},
        ],
        ids=["NUL in email", "NUL in password", "unknown field"],
    )
    async def test_input_that_cannot_be_stored_is_422_not_500(
        self, api: httpx.AsyncClient, body: dict[str, object]
    ) -> None:
        response = await api.post("/v1/auth/login", json=body)

        assert response.status_code == 422
        assert response.json()["error"] == "RequestValidationError"


class TestAccessToken:
    async def test_no_token_is_401(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/me")
        assert response.status_code == 401
        assert response.json()["error"] == "NotAuthenticated"

    async def test_an_expired_token_is_401(
        self, api: httpx.AsyncClient, account: MakeAccount, settings: Settings
    ) -> None:
        client = await account()
        old = auth_service.issue_token(
            settings, client.user, now=datetime.now(UTC) - timedelta(hours=2)
        )

        response = await api.get("/v1/me", headers={"Authorization": f"Bearer {old.access_token}"})

        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    async def test_a_token_signed_with_another_key_is_401(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        forged = jwt.encode(
            {
                "sub": client.id,
                "role": "admin",
                "iss": "session-api",
                "typ": "access",
                "iat": datetime.now(UTC),
                "exp": datetime.now(UTC) + timedelta(hours=1),
            },
            "someone else's key of at least 32 bytes",
            algorithm="HS256",
        )

        response = await api.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})

        assert response.status_code == 401

    async def test_a_client_cannot_use_admin_routes(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()

        response = await api.post(
            "/v1/admin/therapists",
            json={
                "email": "t@example.com",
                "password": PASSWORD,
                "full_name": "T",
                "session_rate": 2000,
            },
            headers=client.headers,
        )

        assert response.status_code == 403
        assert response.json()["error"] == "RoleRequired"


class TestProfile:
    async def test_sets_and_forgets_the_mpesa_phone(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()

        changed = await api.patch(
            "/v1/me", json={"phone": "0712 345 678", "full_name": "Amina W"}, headers=client.headers
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["phone"] == "254712345678"
        assert changed.json()["full_name"] == "Amina W"
        assert (await api.get("/v1/me", headers=client.headers)).json()["phone"] == "254712345678"

        renamed = await api.patch("/v1/me", json={"full_name": "Amina"}, headers=client.headers)
        assert renamed.json()["phone"] == "254712345678"

        forgotten = await api.patch("/v1/me", json={"phone": None}, headers=client.headers)
        assert forgotten.json()["phone"] is None
        assert forgotten.json()["full_name"] == "Amina"

    async def test_refuses_a_phone_naming_the_accepted_formats(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()

        response = await api.patch("/v1/me", json={"phone": "0812345678"}, headers=client.headers)

        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "body.phone"
        assert "07XXXXXXXX" in response.json()["detail"]

    async def test_needs_a_token(self, api: httpx.AsyncClient) -> None:
        assert (await api.patch("/v1/me", json={"full_name": "X"})).status_code == 401

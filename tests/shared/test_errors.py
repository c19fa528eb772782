import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from shared.errors import Conflict, DomainError, install_error_handlers


class PaymentAlreadySettled(Conflict):
    """The payment already reached a final state."""


class Body(BaseModel):
    amount: int


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/conflict")
    async def conflict() -> None:
        raise PaymentAlreadySettled("Payment pay_1 is already completed.")

    @app.post("/teapot")
    async def teapot() -> None:
        class Teapot(DomainError):
            status_code = 418

        raise Teapot("short and stout", headers={"Retry-After": "5"})

    @app.post("/shape")
    async def shape(body: Body) -> Body:
        return body

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


async def request(method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


class TestErrorHandlers:
    async def test_domain_error_renders_its_status_name_and_message(self) -> None:
        response = await request("POST", "/conflict")
        assert response.status_code == 409
        assert response.json() == {
            "error": "PaymentAlreadySettled",
            "detail": "Payment pay_1 is already completed.",
        }

    async def test_domain_error_headers_are_sent(self) -> None:
        response = await request("POST", "/teapot")
        assert response.status_code == 418
        assert response.headers["retry-after"] == "5"
        assert response.json()["error"] == "Teapot"

    async def test_request_shape_error_is_422_naming_the_field(self) -> None:
        response = await request("POST", "/shape", json={"amount": "ten"})
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "RequestValidationError"
        assert body["detail"].startswith("amount:")
        assert body["fields"][0]["field"] == "body.amount"

    async def test_malformed_json_is_422_not_500(self) -> None:
        response = await request(
            "POST", "/shape", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["error"] == "RequestValidationError"

    async def test_unknown_route_is_json_404(self) -> None:
        response = await request("GET", "/nowhere")
        assert response.status_code == 404
        assert response.json() == {"error": "NotFound", "detail": "Not Found"}

    async def test_unexpected_error_is_a_generic_500_without_internals(self) -> None:
        response = await request("GET", "/boom")
        assert response.status_code == 500
        assert response.json() == {
            "error": "InternalServerError",
            "detail": "An unexpected error occurred.",
        }

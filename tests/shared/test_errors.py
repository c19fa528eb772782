import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from shared.errors import (
    Conflict,
    DomainError,
    ValidationErrorBody,
    document_errors,
    install_error_handlers,
    responses,
)


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

    async def test_malformed_json_is_a_400_saying_where(self) -> None:
        response = await request(
            "POST", "/shape", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "MalformedJSON"
        assert "at character 1" in response.json()["detail"]

    async def test_a_body_that_is_not_utf8_is_malformed_json_too(self) -> None:
        response = await request(
            "POST",
            "/shape",
            content=b'{"amount": "\xff"}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == "MalformedJSON"

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


class AmountOutOfRange(DomainError):
    """The amount is outside the configured limits."""

    status_code = 422


def documented_app() -> FastAPI:
    app = make_app()

    @app.post("/limited", responses=responses(AmountOutOfRange))
    async def limited(body: Body) -> Body:
        return body

    @app.get("/plain")
    async def plain(page: int = 1) -> int:
        return page

    openapi = app.openapi()
    document_errors(openapi)
    app.openapi_schema = openapi
    return app


class TestDocumentedErrors:
    def test_every_422_documents_the_body_the_handler_sends(self) -> None:
        openapi = documented_app().openapi()

        for path in ("/shape", "/plain"):
            operation = next(iter(openapi["paths"][path].values()))
            schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ValidationErrorBody"}
        components = openapi["components"]["schemas"]
        assert "HTTPValidationError" not in components
        assert set(components["ValidationErrorBody"]["required"]) == {"error", "detail", "fields"}

    def test_a_domain_422_shares_the_status_with_the_validation_body(self) -> None:
        responses_ = documented_app().openapi()["paths"]["/limited"]["post"]["responses"]

        schema = responses_["422"]["content"]["application/json"]["schema"]
        assert schema == {
            "anyOf": [
                {"$ref": "#/components/schemas/ValidationErrorBody"},
                {"$ref": "#/components/schemas/ErrorBody"},
            ]
        }
        assert "configured limits" in responses_["422"]["description"]

    def test_the_400_for_a_body_that_is_not_json_is_documented_where_a_body_is_read(
        self,
    ) -> None:
        paths = documented_app().openapi()["paths"]

        assert "MalformedJSON" in paths["/shape"]["post"]["responses"]["400"]["description"]
        assert "400" not in paths["/plain"]["get"]["responses"]

    async def test_the_documented_422_body_is_what_is_sent(self) -> None:
        response = await request("POST", "/shape", json={"amount": "ten", "extra": 1})

        assert ValidationErrorBody.model_validate(response.json()).fields[0].field == "body.amount"

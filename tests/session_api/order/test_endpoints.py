import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import Product, UserRole
from tests.session_api.fixtures import PHONE, FakeGateway, MakeAccount, deliver

CUSTOMER = {"name": "Amina W", "phone": PHONE, "email": "amina@example.com"}
DELIVERY = {"method": "delivery", "address": "12 Moi Avenue", "city": "Nairobi"}


@pytest.fixture
async def products(db_session: AsyncSession) -> dict[str, Product]:
    made = {
        sku: Product(
            id=uuid.uuid4(), sku=sku, name=name, description="", price=price, is_active=active
        )
        for sku, name, price, active in [
            ("JOURNAL", "Journal", 1_200, True),
            ("CARDS", "Breathing cards", 800, True),
            ("RETIRED", "Old poster", 300, False),
        ]
    }
    db_session.add_all(made.values())
    await db_session.flush()
    return made


def order_body(*items: tuple[Product, int], **overrides: Any) -> dict[str, Any]:
    return {
        "items": [{"product_id": str(p.id), "quantity": q} for p, q in items],
        "delivery": DELIVERY,
        "customer": CUSTOMER,
        **overrides,
    }


class TestCreate:
    async def test_captures_prices_and_adds_the_delivery_fee(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        products: dict[str, Product],
        db_session: AsyncSession,
    ) -> None:
        client = await account()

        response = await api.post(
            "/v1/orders",
            json=order_body((products["JOURNAL"], 2), (products["CARDS"], 1)),
            headers=client.headers,
        )
        products["JOURNAL"].price = 9_999
        await db_session.flush()
        later = await api.get(f"/v1/orders/{response.json()['id']}", headers=client.headers)

        assert response.status_code == 201, response.text
        body = later.json()
        assert body["status"] == "pending"
        assert [(i["product_name"], i["unit_price"], i["line_total"]) for i in body["items"]] == [
            ("Journal", 1_200, 2_400),
            ("Breathing cards", 800, 800),
        ]
        assert (body["subtotal"], body["delivery_fee"], body["total"]) == (3_200, 300, 3_500)

    async def test_pickup_has_no_delivery_fee(
        self, api: httpx.AsyncClient, account: MakeAccount, products: dict[str, Product]
    ) -> None:
        client = await account()

        response = await api.post(
            "/v1/orders",
            json=order_body((products["CARDS"], 1), delivery={"method": "pickup"}),
            headers=client.headers,
        )

        assert (response.json()["delivery_fee"], response.json()["total"]) == (0, 800)

    @pytest.mark.parametrize(
        ("case", "status", "named"),
        [
            ("unknown product", 400, "items[0].product_id"),
            ("retired product", 400, "items[0].product_id"),
            ("quantity 0", 422, "items.0.quantity"),
            ("fractional quantity", 422, "items.0.quantity"),
            ("no items", 422, "items"),
            ("same product twice", 422, "items"),
            ("delivery without address", 422, "delivery"),
            ("bad customer phone", 422, "customer.phone"),
            ("bad customer email", 422, "customer.email"),
        ],
    )
    async def test_bad_input_names_the_field(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        products: dict[str, Product],
        case: str,
        status: int,
        named: str,
    ) -> None:
        client = await account()
        journal = products["JOURNAL"]
        body = {
            "unknown product": order_body(
                (Product(id=uuid.uuid4(), name="x", sku="x", price=1), 1)
            ),
            "retired product": order_body((products["RETIRED"], 1)),
            "quantity 0": order_body((journal, 0)),
            "fractional quantity": order_body((journal, 1.5)),  # type: ignore[arg-type]
            "no items": order_body(),
            "same product twice": order_body((journal, 1), (journal, 2)),
            "delivery without address": order_body((journal, 1), delivery={"method": "delivery"}),
            "bad customer phone": order_body((journal, 1), customer={**CUSTOMER, "phone": "999"}),
            "bad customer email": order_body((journal, 1), customer={**CUSTOMER, "email": "x@"}),
        }[case]

        response = await api.post("/v1/orders", json=body, headers=client.headers)

        assert response.status_code == status, response.text
        assert named in response.json()["detail"]

    async def test_a_total_above_one_mpesa_payment_is_refused(
        self, api: httpx.AsyncClient, account: MakeAccount, db_session: AsyncSession
    ) -> None:
        client = await account()
        pricey = Product(id=uuid.uuid4(), sku="PRICEY", name="Pricey", price=200_000)
        db_session.add(pricey)
        await db_session.flush()

        response = await api.post(
            "/v1/orders", json=order_body((pricey, 2)), headers=client.headers
        )

        assert response.status_code == 400
        assert "250,000" in response.json()["detail"]


class TestPay:
    async def test_a_paid_order_shows_its_receipt(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        products: dict[str, Product],
        gateway: FakeGateway,
    ) -> None:
        client = await account()
        order = (
            await api.post(
                "/v1/orders", json=order_body((products["JOURNAL"], 1)), headers=client.headers
            )
        ).json()

        attempt = await api.post(
            f"/v1/orders/{order['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )
        await deliver(api, gateway.paid(gateway.last_payment()["id"], receipt="SGHORDER01"))

        assert attempt.status_code == 201
        assert attempt.json()["amount"] == 1_500
        assert gateway.creates[-1].headers["Idempotency-Key"] == (
            f"session-api:order:{order['id']}:1"
        )
        seen = (await api.get(f"/v1/orders/{order['id']}", headers=client.headers)).json()
        assert seen["status"] == "paid"
        assert seen["payment"] == {
            "status": "paid",
            "receipt_number": "SGHORDER01",
            "paid_at": seen["payment"]["paid_at"],
            "reason": None,
            "last_attempt_id": attempt.json()["id"],
        }
        again = await api.post(
            f"/v1/orders/{order['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )
        assert again.status_code == 409

    async def test_a_cancelled_order_cannot_be_paid(
        self, api: httpx.AsyncClient, account: MakeAccount, products: dict[str, Product]
    ) -> None:
        client = await account()
        order = (
            await api.post(
                "/v1/orders", json=order_body((products["JOURNAL"], 1)), headers=client.headers
            )
        ).json()
        cancelled = await api.post(f"/v1/orders/{order['id']}/cancel", headers=client.headers)

        response = await api.post(
            f"/v1/orders/{order['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )

        assert cancelled.json()["status"] == "cancelled"
        assert response.status_code == 409

    async def test_someone_elses_order_is_404(
        self, api: httpx.AsyncClient, account: MakeAccount, products: dict[str, Product]
    ) -> None:
        client = await account()
        stranger = await account()
        order = (
            await api.post(
                "/v1/orders", json=order_body((products["JOURNAL"], 1)), headers=client.headers
            )
        ).json()

        for method, path in [
            ("GET", f"/v1/orders/{order['id']}"),
            ("POST", f"/v1/orders/{order['id']}/pay"),
            ("POST", f"/v1/orders/{order['id']}/cancel"),
        ]:
            response = await api.request(
                method, path, json={"phone": PHONE}, headers=stranger.headers
            )
            assert response.status_code == 404

    async def test_staff_move_a_paid_order_through_fulfilment(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        products: dict[str, Product],
        gateway: FakeGateway,
    ) -> None:
        client = await account()
        admin = await account(role=UserRole.admin)
        order = (
            await api.post(
                "/v1/orders", json=order_body((products["CARDS"], 1)), headers=client.headers
            )
        ).json()
        early = await api.post(
            f"/v1/admin/orders/{order['id']}/status",
            json={"status": "processing"},
            headers=admin.headers,
        )
        await api.post(
            f"/v1/orders/{order['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )
        await deliver(api, gateway.paid(gateway.last_payment()["id"]))

        steps = [
            (
                await api.post(
                    f"/v1/admin/orders/{order['id']}/status",
                    json={"status": step},
                    headers=admin.headers,
                )
            ).json()["status"]
            for step in ("processing", "shipped", "delivered")
        ]
        by_client = await api.post(
            f"/v1/admin/orders/{order['id']}/status",
            json={"status": "shipped"},
            headers=client.headers,
        )

        assert early.status_code == 409
        assert steps == ["processing", "shipped", "delivered"]
        assert by_client.status_code == 403


class TestList:
    async def test_mine_only_with_filters_and_pages(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        products: dict[str, Product],
        gateway: FakeGateway,
    ) -> None:
        client = await account()
        stranger = await account()
        ids = [
            (
                await api.post(
                    "/v1/orders", json=order_body((products["CARDS"], n)), headers=client.headers
                )
            ).json()["id"]
            for n in (1, 2, 3)
        ]
        await api.post(
            "/v1/orders", json=order_body((products["CARDS"], 1)), headers=stranger.headers
        )
        await api.post(f"/v1/orders/{ids[0]}/pay", json={"phone": PHONE}, headers=client.headers)
        await deliver(api, gateway.paid(gateway.last_payment()["id"]))

        everything = (await api.get("/v1/orders", headers=client.headers)).json()
        paid = (
            await api.get("/v1/orders", params={"status": "paid"}, headers=client.headers)
        ).json()
        pending = (
            await api.get(
                "/v1/orders",
                params={"payment_status": "unpaid", "page_size": 1},
                headers=client.headers,
            )
        ).json()

        assert everything["total"] == 3
        assert [o["id"] for o in everything["items"]] == ids[::-1]
        assert [o["id"] for o in paid["items"]] == [ids[0]]
        assert (pending["total"], len(pending["items"])) == (2, 1)

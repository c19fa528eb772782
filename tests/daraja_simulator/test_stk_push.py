import re
from datetime import datetime
from typing import Any

import pytest

from daraja_simulator.clock import NAIROBI
from daraja_simulator.testing import (
    PAYBILL,
    PHONE,
    PUSH,
    Receiver,
    Sim,
    SimFactory,
    assert_daraja_error,
    decimal_json,
)

MERCHANT_REQUEST_ID = re.compile(r"^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\d{6,7}$")


def invalid(field: str) -> dict[str, Any]:
    return {"status": 400, "code": "400.002.02", "message": f"Bad Request - Invalid {field}"}


class TestAccepted:
    async def test_answers_like_daraja(self, sim: Sim) -> None:
        before = datetime.now(NAIROBI).replace(microsecond=0)

        response = await sim.push()

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {
            "MerchantRequestID",
            "CheckoutRequestID",
            "ResponseCode",
            "ResponseDescription",
            "CustomerMessage",
        }
        assert body["ResponseCode"] == "0"
        assert body["ResponseDescription"] == "Success. Request accepted for processing"
        assert body["CustomerMessage"] == "Success. Request accepted for processing"
        assert MERCHANT_REQUEST_ID.match(body["MerchantRequestID"])
        match = re.fullmatch(r"ws_CO_(\d{14})(\d{3})(\d{9})", body["CheckoutRequestID"])
        assert match is not None
        stamped = datetime.strptime(match[1], "%d%m%Y%H%M%S").replace(tzinfo=NAIROBI)
        assert 0 <= (stamped - before).total_seconds() <= 2
        assert match[3] == PHONE.removeprefix("254")

    async def test_accepts_safaricoms_mixed_number_and_string_fields(self, sim: Sim) -> None:
        response = await sim.push(BusinessShortCode=174379, Amount=1, PartyA=254708374149)

        assert response.status_code == 200

    @pytest.mark.parametrize("amount", ["1", 1, "250000", 250000, "10.00", 10.0])
    async def test_whole_amounts_in_range(self, sim: Sim, amount: object) -> None:
        response = await sim.push(Amount=amount)

        assert response.status_code == 200, response.text

    async def test_accepts_a_2541_number(self, sim: Sim) -> None:
        response = await sim.push(PhoneNumber="254110000123", PartyA="254110000123")

        assert response.status_code == 200

    async def test_a_body_daraja_cannot_read_fails_on_the_shortcode(self, sim: Sim) -> None:
        token = await sim.token()
        response = await sim.client.post(
            PUSH,
            content="BusinessShortCode=174379",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
        )

        assert_daraja_error(response, **invalid("BusinessShortCode"))


class TestInvalidFields:
    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("BusinessShortCode", "17437"[:4]),
            ("BusinessShortCode", "17437A"),
            ("BusinessShortCode", None),
            ("Timestamp", "2021062809240"),
            ("Timestamp", "20211328092408"),
            ("Timestamp", None),
            ("TransactionType", "CustomerPayBill"),
            ("TransactionType", None),
            ("Amount", 0),
            ("Amount", 250001),
            ("Amount", "10.5"),
            ("Amount", 10.5),
            ("Amount", -5),
            ("Amount", "ten"),
            ("Amount", True),
            ("Amount", None),
            ("PartyA", "0708374149"),
            ("PartyA", None),
            ("PartyB", "12"),
            ("PartyB", None),
            ("PhoneNumber", "0708374149"),
            ("PhoneNumber", "+254708374149"),
            ("PhoneNumber", "25470837414"),
            ("PhoneNumber", "254608374149"),
            ("PhoneNumber", None),
            ("AccountReference", ""),
            ("AccountReference", None),
        ],
    )
    async def test_names_the_field(self, sim: Sim, field: str, value: object) -> None:
        body = sim.push_body()
        if value is None:
            del body[field]
        else:
            body[field] = value

        response = await sim.push_raw(body)

        assert_daraja_error(response, **invalid(field))

    async def test_missing_transaction_desc_is_invalid_remarks(self, sim: Sim) -> None:
        body = sim.push_body()
        del body["TransactionDesc"]

        response = await sim.push_raw(body)

        assert_daraja_error(response, **invalid("Remarks"))

    @pytest.mark.parametrize(
        "url",
        [
            "not a url",
            "https://example.com/callback ",
            "ftp://example.com/callback",
            "https:///no-host",
            "https://example.com:99999/callback",
            "https://example.com/mpesa/callback",
            "https://example.com/M-PESA/callback",
            "https://safaricom.example.com/callback",
            "https://example.com/callback?query=1",
            "https://example.com/exec/callback",
            "https://example.com/cmd",
            "https://example.com/SQL",
            "https://example.com/run.exe",
        ],
    )
    async def test_callback_url_rules(self, sim: Sim, url: str) -> None:
        response = await sim.push(CallBackURL=url)

        assert_daraja_error(response, **invalid("CallBackURL"))

    async def test_plain_http_callback_is_fine_in_sandbox_mode(self, sim: Sim) -> None:
        response = await sim.push(CallBackURL="http://example.com/callbacks/stk/x")

        assert response.status_code == 200

    async def test_production_mode_requires_https(self, make_sim: SimFactory) -> None:
        async with make_sim(MODE="production") as sim:
            refused = await sim.push(CallBackURL="http://example.com/callbacks/stk/x")
            accepted = await sim.push(CallBackURL="https://example.com/callbacks/stk/x")

        assert_daraja_error(refused, **invalid("CallBackURL"))
        assert accepted.status_code == 200

    async def test_timestamp_skew_is_checked_when_configured(self, make_sim: SimFactory) -> None:
        async with make_sim(TIMESTAMP_MAX_SKEW_S=300) as sim:
            stale = "20210628092408"
            response = await sim.push(Timestamp=stale, Password=sim.password(stale))

        assert_daraja_error(response, **invalid("Timestamp"))

    async def test_an_old_timestamp_is_accepted_by_default(self, sim: Sim) -> None:
        stale = "20210628092408"

        response = await sim.push(Timestamp=stale, Password=sim.password(stale))

        assert response.status_code == 200


class TestMerchant:
    async def test_unknown_shortcode(self, sim: Sim) -> None:
        response = await sim.push(
            BusinessShortCode="600000", PartyB="600000", Password=sim.password("x", "600000")
        )

        assert_daraja_error(
            response, status=500, code="500.001.1001", message="Merchant does not exist"
        )

    async def test_wrong_password(self, sim: Sim) -> None:
        response = await sim.push(Password="bm90IHRoZSBwYXNzd29yZA==")

        assert_daraja_error(response, status=500, code="500.001.1001", message="Wrong credentials")

    async def test_password_for_another_timestamp(self, sim: Sim) -> None:
        response = await sim.push(Password=sim.password("20210628092408"))

        assert_daraja_error(response, status=500, code="500.001.1001", message="Wrong credentials")

    async def test_missing_password(self, sim: Sim) -> None:
        body = sim.push_body()
        del body["Password"]

        response = await sim.push_raw(body)

        assert_daraja_error(response, status=500, code="500.001.1001", message="Wrong credentials")

    async def test_the_official_sample_password_checks_out(self, sim: Sim) -> None:
        response = await sim.push(
            Timestamp="20210628092408",
            Password=(
                "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJh"
                "ZGExZWQyYzkxOTIwMjEwNjI4MDkyNDA4"
            ),
        )

        assert response.status_code == 200


class TestDarajaRules:
    async def test_a_second_prompt_to_a_phone_with_one_open_is_refused(self, sim: Sim) -> None:
        await sim.client.put(f"/simulator/behaviours/{PHONE}", json={"behaviour": "manual"})
        await sim.pushed()

        response = await sim.push(Amount="20")

        assert_daraja_error(
            response,
            status=500,
            code="500.001.1001",
            message=(
                "Unable to lock subscriber, a transaction is already in process for the "
                "current subscriber"
            ),
        )

    async def test_the_lock_is_released_once_the_customer_answers(self, sim: Sim) -> None:
        first = await sim.pushed()
        await sim.settled(first)

        response = await sim.push(Amount="20")

        assert response.status_code == 200

    async def test_same_phone_and_amount_within_two_minutes_ends_with_17(
        self, sim: Sim, receiver: Receiver
    ) -> None:
        first = await sim.pushed()
        await sim.settled(first)

        second = await sim.pushed()
        await receiver.wait_for(2)

        callback = decimal_json(receiver.raw[1])["Body"]["stkCallback"]
        assert callback == {
            "MerchantRequestID": sim.checkout(second).merchant_request_id,
            "CheckoutRequestID": second,
            "ResultCode": 17,
            "ResultDesc": "Rule limited.",
        }
        query = (await sim.query(second)).json()
        assert (query["ResultCode"], query["ResultDesc"]) == ("17", "Rule limited.")
        assert len(sim.state.ledger) == 1

    async def test_another_amount_is_not_rule_limited(self, sim: Sim) -> None:
        first = await sim.pushed()
        await sim.settled(first)

        second = await sim.pushed(Amount="11")

        outcome = (await sim.settled(second)).outcome
        assert outcome is not None
        assert outcome.result_code == 0

    async def test_the_same_amount_after_the_window_is_fine(self, sim: Sim) -> None:
        first = await sim.pushed()
        await sim.settled(first)
        await sim.client.post("/simulator/clock/advance", json={"seconds": 121})

        second = await sim.pushed()

        outcome = (await sim.settled(second)).outcome
        assert outcome is not None
        assert outcome.result_code == 0

    async def test_till_store_takes_buy_goods_to_its_till(
        self, make_sim: SimFactory, receiver: Receiver
    ) -> None:
        store = {
            "shortcode": "300100",
            "passkey": "till-passkey",
            "kind": "till",
            "tills": ["5100100"],
        }
        async with make_sim(SHORTCODES=[store]) as sim:
            checkout = await sim.pushed(
                BusinessShortCode="300100",
                Password=sim.password(sim.timestamp(), "300100"),
                TransactionType="CustomerBuyGoodsOnline",
                PartyB="5100100",
            )
            settled = await sim.settled(checkout)

        assert settled.outcome is not None
        assert settled.outcome.result_code == 0
        entry = sim.state.ledger.by_checkout(checkout)
        assert entry is not None
        assert entry.party_b == "5100100"

    @pytest.mark.parametrize(
        ("transaction_type", "party_b"),
        [("CustomerBuyGoodsOnline", PAYBILL), ("CustomerPayBillOnline", "600111")],
    )
    async def test_wrong_product_for_a_paybill_ends_with_2028(
        self, sim: Sim, receiver: Receiver, transaction_type: str, party_b: str
    ) -> None:
        checkout = await sim.pushed(TransactionType=transaction_type, PartyB=party_b)
        await receiver.wait_for(1)

        callback = receiver.received[0]["Body"]["stkCallback"]
        assert callback["CheckoutRequestID"] == checkout
        assert callback["ResultCode"] == 2028
        assert callback["ResultDesc"] == (
            "The request is not permitted according to product assignment."
        )
        assert "CallbackMetadata" not in callback
        assert len(sim.state.ledger) == 0

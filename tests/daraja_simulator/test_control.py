import csv
import io

import pytest

from daraja_simulator.clock import NAIROBI
from daraja_simulator.testing import PAYBILL, PHONE, Receiver, Sim, SimFactory
from daraja_simulator.transactions.statement import COLUMNS

MANUAL_PHONE = "254711222149"


async def manual_prompt(sim: Sim) -> str:
    await sim.client.put(f"/simulator/behaviours/{MANUAL_PHONE}", json={"behaviour": "manual"})
    return await sim.pushed(PhoneNumber=MANUAL_PHONE, PartyA=MANUAL_PHONE)


class TestPrompts:
    async def test_lists_open_prompts(self, sim: Sim) -> None:
        checkout_request_id = await manual_prompt(sim)

        prompts = (await sim.client.get("/simulator/prompts")).json()

        assert [p["checkout_request_id"] for p in prompts] == [checkout_request_id]
        prompt = prompts[0]
        assert prompt["stage"] == "prompt_open"
        assert (prompt["phone"], prompt["amount"], prompt["party_b"]) == (MANUAL_PHONE, 10, PAYBILL)
        assert prompt["behaviour"] == "manual"

    @pytest.mark.parametrize(
        ("verb", "code"), [("approve", 0), ("cancel", 1032), ("wrong-pin", 2001)]
    )
    async def test_answering_a_prompt(
        self, sim: Sim, receiver: Receiver, verb: str, code: int
    ) -> None:
        checkout_request_id = await manual_prompt(sim)

        response = await sim.client.post(f"/simulator/prompts/{checkout_request_id}/{verb}")
        await receiver.wait_for(1)

        assert response.status_code == 200
        view = response.json()
        assert (view["prompt_open"], view["result_code"]) == (False, code)
        assert receiver.received[0]["Body"]["stkCallback"]["ResultCode"] == code
        assert (len(sim.state.ledger) == 1) == (code == 0)
        assert (await sim.client.get("/simulator/prompts")).json() == []

    async def test_an_ignored_prompt_expires(self, sim: Sim, receiver: Receiver) -> None:
        # A manual prompt: the default customer may answer before the ignore arrives.
        checkout_request_id = await manual_prompt(sim)

        response = await sim.client.post(f"/simulator/prompts/{checkout_request_id}/ignore")
        await receiver.wait_for(1)

        assert response.json()["ignored"] is True
        assert receiver.received[0]["Body"]["stkCallback"]["ResultCode"] == 1019

    async def test_a_closed_prompt_cannot_be_answered(self, sim: Sim) -> None:
        checkout_request_id = await sim.pushed()
        await sim.settled(checkout_request_id)

        response = await sim.client.post(f"/simulator/prompts/{checkout_request_id}/approve")

        assert response.status_code == 409
        assert response.json()["error"] == "PromptNotOpen"

    async def test_an_unknown_prompt(self, sim: Sim) -> None:
        response = await sim.client.post("/simulator/prompts/ws_CO_nope/approve")

        assert response.status_code == 404
        assert response.json()["error"] == "CheckoutNotFound"

    async def test_without_auto_respond_prompts_wait_and_then_expire(
        self, make_sim: SimFactory, receiver: Receiver
    ) -> None:
        async with make_sim(AUTO_RESPOND=False) as sim:
            checkout_request_id = await sim.pushed(PhoneNumber="254711222001")
            assert sim.checkout(checkout_request_id).prompt_open
            await receiver.wait_for(1)

        assert receiver.received[0]["Body"]["stkCallback"]["ResultCode"] == 1019

    async def test_auto_respond_can_be_switched_off_at_runtime(self, sim: Sim) -> None:
        response = await sim.client.put("/simulator/auto-respond", json={"enabled": False})
        checkout_request_id = await sim.pushed()

        assert response.json()["auto_respond"] is False
        assert sim.checkout(checkout_request_id).behaviour.name == "manual"


class TestCheckouts:
    async def test_the_truth_and_what_was_reported(self, sim: Sim) -> None:
        checkout_request_id = await sim.pushed(PhoneNumber="254711222009")
        await sim.settled(checkout_request_id)
        await sim.idle()

        view = (await sim.client.get(f"/simulator/checkouts/{checkout_request_id}")).json()

        assert view["stage"] == "reported"
        assert (view["result_code"], view["reported_result_code"]) == (0, 1032)
        assert view["receipt"] == sim.checkout(checkout_request_id).receipt
        assert view["callback_attempts"] == 1

    async def test_unknown_checkout(self, sim: Sim) -> None:
        response = await sim.client.get("/simulator/checkouts/ws_CO_nope")

        assert response.status_code == 404


class TestBehaviours:
    async def test_the_table(self, sim: Sim) -> None:
        table = (await sim.client.get("/simulator/behaviours")).json()

        assert [(b["code"], b["name"]) for b in table["table"]] == [
            ("001", "cancel"),
            ("002", "insufficient_balance"),
            ("003", "wrong_pin"),
            ("004", "unreachable"),
            ("005", "no_callback"),
            ("006", "duplicate_callbacks"),
            ("007", "expire"),
            ("008", "late_callback"),
            ("009", "query_contradicts"),
            ("010", "never_answers"),
        ]
        assert table["default"]["name"] == "pay"
        assert table["auto_respond"] is True

    async def test_set_and_clear_for_a_phone(self, sim: Sim) -> None:
        set_response = await sim.client.put(
            f"/simulator/behaviours/{PHONE}", json={"behaviour": "wrong_pin"}
        )
        listed = (await sim.client.get("/simulator/behaviours")).json()["overrides"]
        cleared = await sim.client.delete(f"/simulator/behaviours/{PHONE}")

        assert set_response.json() == {
            "phone": PHONE,
            "behaviour": {
                "code": "003",
                "name": "wrong_pin",
                "description": "wrong PIN: callback 2001",
            },
        }
        assert [o["phone"] for o in listed] == [PHONE]
        assert cleared.status_code == 204
        assert (await sim.client.get("/simulator/behaviours")).json()["overrides"] == []

    @pytest.mark.parametrize(
        ("phone", "body"),
        [("0708374149", {"behaviour": "cancel"}), (PHONE, {"behaviour": "dance"})],
    )
    async def test_rejects_bad_input(self, sim: Sim, phone: str, body: dict[str, str]) -> None:
        response = await sim.client.put(f"/simulator/behaviours/{phone}", json=body)

        assert response.status_code == 422


class TestRequestLog:
    async def test_counts_requests_per_api_and_hides_the_password(self, sim: Sim) -> None:
        token = await sim.token()
        await sim.push(token=token)
        await sim.push(token=token, Amount="0")

        pushes = (await sim.client.get("/simulator/requests", params={"api": "stk_push"})).json()
        tokens = (await sim.client.get("/simulator/requests", params={"api": "oauth"})).json()
        refused = (
            await sim.client.get("/simulator/requests", params={"api": "stk_push", "status": 400})
        ).json()

        assert pushes["count"] == 2
        assert tokens["count"] == 1
        assert refused["count"] == 1
        first = pushes["requests"][0]
        assert first["body"]["Password"] == "***"
        assert first["body"]["PhoneNumber"] == PHONE
        assert (first["method"], first["path"], first["status"]) == (
            "POST",
            "/mpesa/stkpush/v1/processrequest",
            200,
        )
        assert first["auth_scheme"] == "Bearer"


class TestReset:
    async def test_forgets_everything(self, sim: Sim) -> None:
        token = await sim.token()
        checkout_request_id = await sim.pushed()
        await sim.settled(checkout_request_id)
        await sim.client.put(f"/simulator/behaviours/{PHONE}", json={"behaviour": "cancel"})
        await sim.client.post("/simulator/faults", json={"kind": "latency", "latency_s": 1})
        await sim.client.post("/simulator/clock/advance", json={"seconds": 60})

        response = await sim.client.post("/simulator/reset")

        assert response.status_code == 204
        assert (await sim.client.get("/simulator/checkouts")).json() == []
        assert (await sim.client.get("/simulator/ledger")).json() == {"count": 0, "entries": []}
        assert (await sim.client.get("/simulator/requests")).json()["count"] == 0
        assert (await sim.client.get("/simulator/callbacks")).json()["count"] == 0
        assert (await sim.client.get("/simulator/faults")).json() == []
        assert (await sim.client.get("/simulator/behaviours")).json()["overrides"] == []
        assert (await sim.client.get("/simulator/clock")).json()["offset_s"] == 0
        assert (await sim.push(token=token)).status_code == 404


class TestLedgerAndStatement:
    async def paid(self, sim: Sim, amount: int, phone: str) -> str:
        checkout_request_id = await sim.pushed(Amount=str(amount), PhoneNumber=phone)
        await sim.settled(checkout_request_id)
        return checkout_request_id

    async def test_the_ledger_lists_completed_payments_newest_first(self, sim: Sim) -> None:
        await self.paid(sim, 1500, "254711000149")
        await sim.pushed(PhoneNumber="254711000001")
        await self.paid(sim, 20, "254711000249")
        await sim.idle()

        ledger = (await sim.client.get("/simulator/ledger")).json()

        assert ledger["count"] == 2
        assert [e["amount"] for e in ledger["entries"]] == [20, 1500]
        assert [e["balance_after"] for e in ledger["entries"]] == [1520, 1500]
        limited = (await sim.client.get("/simulator/ledger", params={"limit": 1})).json()
        assert limited["count"] == 1

    async def test_statement_csv_columns_and_rows(self, sim: Sim) -> None:
        first = await self.paid(sim, 1500, "254711000149")
        second = await self.paid(sim, 20, "254711000249")

        response = await sim.client.get("/simulator/statement.csv")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.splitlines()
        assert lines[0] == "Organization Name,Simulated Paybill 174379"
        assert lines[1] == f"Short Code,{PAYBILL}"
        header_at = lines.index(",".join(COLUMNS))
        rows = list(csv.DictReader(io.StringIO("\n".join(lines[header_at:]))))
        assert list(rows[0]) == list(COLUMNS)
        assert len(COLUMNS) == 13
        assert [r["Receipt No."] for r in rows] == [
            sim.checkout(second).receipt,
            sim.checkout(first).receipt,
        ]
        older = rows[1]
        entry = sim.state.ledger.by_checkout(first)
        assert entry is not None
        assert older["Paid In"] == "1,500.00"
        assert older["Withdrawn"] == ""
        assert older["Balance"] == "1,500.00"
        assert rows[0]["Balance"] == "1,520.00"
        assert older["Transaction Status"] == "Completed"
        assert older["Reason Type"] == "Pay Bill Online"
        assert older["Other Party Info"] == f"2547*****149 - {entry.customer_name}"
        assert older["Details"] == (
            f"Pay Bill Online from 2547*****149 - {entry.customer_name} Acc. ORDER-1"
        )
        assert older["A/C No."] == "ORDER-1"
        assert older["Completion Time"] == entry.completed_at.astimezone(NAIROBI).strftime(
            "%d-%m-%Y %H:%M:%S"
        )
        assert '"1,500.00"' in response.text

    async def test_statement_without_preamble_and_for_a_period(self, sim: Sim) -> None:
        await self.paid(sim, 10, "254711000149")

        empty = await sim.client.get(
            "/simulator/statement.csv",
            params={"from": "2020-01-01", "to": "2020-01-31", "preamble": "false"},
        )

        assert empty.text.splitlines() == [",".join(COLUMNS)]

    async def test_a_bad_period(self, sim: Sim) -> None:
        response = await sim.client.get("/simulator/statement.csv", params={"from": "yesterday"})

        assert response.status_code == 422
        assert response.json()["error"] == "InvalidPeriod"

    async def test_an_unknown_shortcode(self, sim: Sim) -> None:
        response = await sim.client.get("/simulator/statement.csv", params={"shortcode": "1"})

        assert response.status_code == 404


async def test_the_virtual_phone_page(sim: Sim) -> None:
    response = await sim.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for text in ("Approve", "Cancel", "Wrong PIN", "/simulator/prompts", "/simulator/ledger"):
        assert text in response.text


async def test_the_clock(sim: Sim) -> None:
    before = (await sim.client.get("/simulator/clock")).json()

    after = (await sim.client.post("/simulator/clock/advance", json={"seconds": 90})).json()

    assert after["offset_s"] == before["offset_s"] + 90

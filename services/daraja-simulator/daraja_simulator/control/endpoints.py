from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse

from daraja_simulator.behaviours import CustomerAction
from daraja_simulator.control import page, service
from daraja_simulator.control.exceptions import (
    CheckoutNotFound,
    FaultNotFound,
    InvalidPeriod,
    PromptNotOpen,
    UnknownShortcode,
)
from daraja_simulator.control.schemas import (
    AutoRespondIn,
    BehaviourIn,
    BehaviourTable,
    CheckoutView,
    ClockAdvance,
    ClockView,
    DeliveryAttemptList,
    FaultIn,
    FaultView,
    LedgerList,
    PhoneBehaviour,
    RequestList,
    TokensInvalidated,
)
from daraja_simulator.dependencies import StateDep
from shared.errors import responses

router = APIRouter(prefix="/simulator", tags=["simulator control"])
page_router = APIRouter(tags=["simulator control"])

CheckoutId = Annotated[str, Path(description="the CheckoutRequestID")]
Phone = Annotated[str, Path(pattern=r"^254[17]\d{8}$", description="2547XXXXXXXX or 2541XXXXXXXX")]
From = Annotated[str | None, Query(alias="from", description="YYYY-MM-DD or ISO date-time")]
To = Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (whole day) or date-time")]


@page_router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def virtual_phone() -> HTMLResponse:
    """The virtual phone: open prompts with Approve / Cancel / Wrong PIN, and the ledger."""
    return HTMLResponse(page.VIRTUAL_PHONE_HTML)


@router.post("/reset", status_code=204)
async def reset(state: StateDep) -> Response:
    """Forget everything: tokens, prompts, ledger, logs, faults, behaviours, clock offset."""
    await state.reset()
    return Response(status_code=204)


@router.get("/requests", response_model=RequestList)
async def list_requests(
    state: StateDep,
    api: Annotated[str | None, Query(description="oauth, stk_push, stk_query, …")] = None,
    path: str | None = None,
    status: int | None = None,
) -> RequestList:
    """Requests received on Daraja paths, oldest first, optionally filtered."""
    return service.list_requests(state=state, api=api, path=path, status=status)


@router.get("/callbacks", response_model=DeliveryAttemptList)
async def list_callbacks(
    state: StateDep,
    reference: Annotated[str | None, Query(description="a CheckoutRequestID")] = None,
    kind: Annotated[str | None, Query(description="stk, transaction_status, …")] = None,
) -> DeliveryAttemptList:
    """Every callback delivery attempt, oldest first."""
    return service.list_callbacks(state=state, reference=reference, kind=kind)


@router.get("/prompts", response_model=list[CheckoutView])
async def list_prompts(state: StateDep) -> list[CheckoutView]:
    """Prompts waiting on a phone right now."""
    return service.list_checkouts(state=state, open_only=True)


@router.get("/checkouts", response_model=list[CheckoutView])
async def list_checkouts(state: StateDep) -> list[CheckoutView]:
    """Every accepted STK push, in arrival order."""
    return service.list_checkouts(state=state, open_only=False)


@router.get(
    "/checkouts/{checkout_request_id}",
    response_model=CheckoutView,
    responses=responses(CheckoutNotFound),
)
async def get_checkout(state: StateDep, checkout_request_id: CheckoutId) -> CheckoutView:
    """One STK push: the true outcome and what the query reports."""
    checkout = service.get_checkout(state=state, checkout_request_id=checkout_request_id)
    return service.checkout_view(state, checkout)


_PROMPT_ACTIONS: dict[str, CustomerAction | None] = {
    "approve": CustomerAction.pay,
    "cancel": CustomerAction.cancel,
    "wrong-pin": CustomerAction.wrong_pin,
    "ignore": None,
}


def _prompt_endpoint(verb: str, action: CustomerAction | None, doc: str) -> None:
    async def endpoint(state: StateDep, checkout_request_id: CheckoutId) -> CheckoutView:
        return await service.answer_prompt(
            state=state, checkout_request_id=checkout_request_id, action=action
        )

    endpoint.__doc__ = doc
    router.add_api_route(
        f"/prompts/{{checkout_request_id}}/{verb}",
        endpoint,
        methods=["POST"],
        response_model=CheckoutView,
        responses=responses(CheckoutNotFound, PromptNotOpen),
        name=f"prompt_{verb.replace('-', '_')}",
    )


_prompt_endpoint("approve", CustomerAction.pay, "The customer enters the right PIN and pays.")
_prompt_endpoint("cancel", CustomerAction.cancel, "The customer cancels: result 1032.")
_prompt_endpoint("wrong-pin", CustomerAction.wrong_pin, "The customer enters a wrong PIN: 2001.")
_prompt_endpoint("ignore", None, "The customer ignores the prompt: it expires with 1019.")


@router.get("/behaviours", response_model=BehaviourTable)
async def behaviour_table(state: StateDep) -> BehaviourTable:
    """The behaviour table, per-phone overrides and whether prompts answer themselves."""
    return service.behaviour_table(state=state)


@router.put("/behaviours/{phone}", response_model=PhoneBehaviour)
async def set_behaviour(state: StateDep, phone: Phone, body: BehaviourIn) -> PhoneBehaviour:
    """Make one phone behave as a named behaviour (or table code), whatever its digits."""
    return service.set_behaviour(state=state, phone=phone, name_or_code=body.behaviour)


@router.delete("/behaviours/{phone}", status_code=204)
async def clear_behaviour(state: StateDep, phone: Phone) -> Response:
    """Back to the table for this phone."""
    service.clear_behaviour(state=state, phone=phone)
    return Response(status_code=204)


@router.put("/auto-respond", response_model=BehaviourTable)
async def set_auto_respond(state: StateDep, body: AutoRespondIn) -> BehaviourTable:
    """Turn automatic customers on or off (off: prompts wait for the virtual phone)."""
    return service.set_auto_respond(state=state, enabled=body.enabled)


@router.get("/faults", response_model=list[FaultView])
async def list_faults(state: StateDep) -> list[FaultView]:
    """Faults still in force."""
    return service.list_faults(state=state)


@router.post("/faults", response_model=FaultView, status_code=201)
async def add_fault(state: StateDep, body: FaultIn) -> FaultView:
    """Inject a fault on Daraja paths."""
    return service.add_fault(state=state, fault=body)


@router.delete("/faults", status_code=204)
async def clear_faults(state: StateDep) -> Response:
    """Clear every fault."""
    service.clear_faults(state=state)
    return Response(status_code=204)


@router.delete("/faults/{fault_id}", status_code=204, responses=responses(FaultNotFound))
async def remove_fault(state: StateDep, fault_id: int) -> Response:
    """Clear one fault."""
    service.remove_fault(state=state, fault_id=fault_id)
    return Response(status_code=204)


@router.post("/tokens/invalidate", response_model=TokensInvalidated)
async def invalidate_tokens(state: StateDep) -> TokensInvalidated:
    """Every issued access token stops working (clients must fetch a new one)."""
    return TokensInvalidated(invalidated=service.invalidate_tokens(state=state))


@router.get("/clock", response_model=ClockView)
async def clock(state: StateDep) -> ClockView:
    """The simulator's notion of now."""
    return service.clock_view(state=state)


@router.post("/clock/advance", response_model=ClockView)
async def advance_clock(state: StateDep, body: ClockAdvance) -> ClockView:
    """Move the clock forward: tokens expire, the 2-minute rule and pull window move, and the
    customer delays it steps past (a late report, an unanswered prompt) end now."""
    return service.advance_clock(state=state, seconds=body.seconds)


@router.get("/ledger", response_model=LedgerList, responses=responses(InvalidPeriod))
async def ledger(
    state: StateDep,
    start: From = None,
    end: To = None,
    shortcode: str | None = None,
    phone: str | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> LedgerList:
    """Completed transactions, newest first."""
    return service.ledger(
        state=state, shortcode=shortcode, phone=phone, start=start, end=end, limit=limit
    )


@router.get(
    "/statement.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "the org-portal statement"},
        **responses(InvalidPeriod, UnknownShortcode),
    },
)
async def statement_csv(
    state: StateDep,
    start: From = None,
    end: To = None,
    shortcode: str | None = None,
    preamble: bool = True,
) -> Response:
    """The M-Pesa org-portal statement (13 columns, latest first) for a shortcode."""
    body = service.statement_csv(
        state=state, shortcode=shortcode, start=start, end=end, preamble=preamble
    )
    return Response(content=body, media_type="text/csv")

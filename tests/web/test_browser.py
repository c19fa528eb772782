"""The web app in a real Chromium against the real stack, the simulator playing the customer
(a phone's last three digits choose what it does), at a phone's and a desktop's size."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Locator, Page, expect

from session_api.models import UserRole
from tests.session_api.fixtures import PASSWORD, approved_booking
from tests.session_api.flows.flow import Flow, phone
from tests.web.browser import Browsers, Shots

pytestmark = pytest.mark.timeout(120)

THERAPIST = "Dr. Wanjiru Kamau"
PAYMENT_STREAM = re.compile(r"/v1/payments/[0-9a-f-]{36}/stream")


def local(number: str) -> str:
    """`0712345100` typed the way people do: `0712 345 100`."""
    return f"{number[:4]} {number[4:7]} {number[7:]}"


async def sign_in(page: Page, email: str) -> None:
    await page.goto("/signin")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def receipt_of_last_payment(stack: Flow) -> str:
    entries = await stack.ledger()
    receipt: str = entries[0]["receipt"]
    return receipt


async def test_a_client_signs_up_books_and_pays_while_the_therapist_watches(
    stack: Flow, browsers: Browsers, shots: Shots
) -> None:
    therapist = await stack.account(UserRole.therapist, name=THERAPIST, rate=2500)
    client = await browsers.person()
    requested: list[str] = []
    client.on("request", lambda request: requested.append(urlsplit(request.url).path))
    booking = await _sign_up_and_book(client, shots)

    # The therapist approves in a second browser.
    desk = await browsers.person()
    desk_requested: list[str] = []
    desk.on("request", lambda request: desk_requested.append(urlsplit(request.url).path))
    await sign_in(desk, therapist.user.email)
    request = desk.get_by_test_id("request")
    await expect(request).to_contain_text("Amina Otieno")
    await shots.take(desk, "therapist-request")
    await request.get_by_role("button", name="Approve").click()
    session = desk.get_by_test_id("session")
    await expect(session).to_contain_text("Unpaid")
    await shots.take(desk, "therapist-unpaid")

    receipt = await _pay(client, booking, stack, shots)
    # The status came over session-api's stream. (It polls only when a stream ends before the
    # receipt: a payment proved by a status query is paid before the callback brings it.)
    assert any(PAYMENT_STREAM.fullmatch(path) for path in requested), requested
    await expect(booking).to_contain_text("Paid")
    await expect(booking).to_contain_text(receipt)
    await shots.take(client, "my-bookings-paid")

    # The therapist's list turned paid without a reload: the in-app notification of the payment
    # came over the notification stream, which refreshes the list.
    assert "/v1/notifications/stream" in desk_requested, desk_requested
    await expect(session).to_contain_text("Paid")
    await expect(session).to_contain_text(receipt)
    await expect(session).not_to_contain_text("Unpaid")
    await shots.take(desk, "therapist-paid")

    # The client's payment history has the receipt; the notifications say what happened.
    await client.get_by_role("link", name="Payments").click()
    await expect(client.get_by_test_id("payment")).to_contain_text(receipt)
    await shots.take(client, "payments")
    await client.get_by_role("link", name=re.compile(r"^Notifications, \d+ unread$")).click()
    await expect(client.get_by_text("Session confirmed")).to_be_visible()
    await shots.take(client, "notifications")


async def _sign_up_and_book(client: Page, shots: Shots) -> Locator:
    """Sign up from the first screen the app shows, then request a session: the booking."""
    await client.goto("/")
    await expect(client.get_by_role("heading", name="Sign in")).to_be_visible()
    await shots.take(client, "sign-in")
    await client.get_by_role("link", name="Create an account").click()
    await client.get_by_label("Full name").fill("Amina Otieno")
    await client.get_by_label("Email").fill("amina@example.com")
    await client.get_by_label("M-Pesa phone number").fill(phone("100"))
    await client.get_by_label("Password").fill(PASSWORD)
    await shots.take(client, "sign-up")
    await client.get_by_role("button", name="Create account").click()

    await expect(client.get_by_role("heading", name="Therapists")).to_be_visible()
    await expect(client.get_by_text("KES 2,500 a session")).to_be_visible()
    await shots.take(client, "therapists")
    await client.get_by_role("link", name=f"Book with {THERAPIST}").click()
    await expect(client.get_by_label("Time (Nairobi)")).to_be_visible()
    await shots.take(client, "book")
    await client.get_by_role("button", name="Request booking").click()
    booking = client.get_by_test_id("booking")
    await expect(booking).to_contain_text("Waiting for approval")
    await shots.take(client, "my-bookings-requested")
    return booking


async def _pay(client: Page, booking: Locator, stack: Flow, shots: Shots) -> str:
    """Pay the approved booking (the phone from sign-up is already there); its receipt."""
    await expect(booking).to_contain_text("Approved")
    await booking.get_by_role("button", name="Pay with M-Pesa").click()
    dialog = client.get_by_role("dialog", name="Pay with M-Pesa")
    await expect(dialog.get_by_label("M-Pesa phone number")).not_to_have_value("")
    await expect(dialog).to_contain_text("KES 2,500")
    await shots.take(client, "pay-dialog")
    await dialog.get_by_role("button", name="Send M-Pesa prompt").click()
    await expect(dialog.get_by_role("heading", name="Payment received")).to_be_visible()
    receipt = await receipt_of_last_payment(stack)
    await expect(dialog).to_contain_text(receipt)
    await expect(dialog.get_by_role("status")).to_contain_text("Paid")
    await shots.take(client, "paid")
    async with client.expect_download() as saved:
        await dialog.get_by_role("button", name="Download receipt").click()
    assert (await saved.value).suggested_filename == f"receipt-{receipt}.pdf"
    await dialog.get_by_role("button", name="Done").click()
    return receipt


async def test_a_wrong_phone_is_refused_and_a_cancelled_prompt_can_be_retried(
    stack: Flow, browsers: Browsers, shots: Shots
) -> None:
    therapist = await stack.account(UserRole.therapist, name=THERAPIST)
    account = await stack.account(name="Brian Mwangi")
    booking = await approved_booking(stack.api, account, therapist)
    client = await browsers.person()
    await sign_in(client, account.user.email)
    await client.get_by_role("link", name="My bookings").click()
    await client.get_by_role("button", name="Pay with M-Pesa").click()
    dialog = client.get_by_role("dialog", name="Pay with M-Pesa")
    field = dialog.get_by_label("M-Pesa phone number")
    send = dialog.get_by_role("button", name="Send M-Pesa prompt")

    # A number M-Pesa cannot prompt is refused in the form, before any request.
    await field.fill("0812 345 678")
    await send.click()
    await expect(dialog.get_by_role("alert")).to_contain_text("07XX XXX XXX, 01XX XXX XXX")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await shots.take(client, "wrong-phone")
    attempts = await stack.api.get(
        f"/v1/bookings/{booking['id']}/payments", headers=account.headers
    )
    assert attempts.json() == [] or attempts.json().get("items") == []

    # The customer cancels the prompt (a phone ending 001): the gateway's reason, and a retry.
    await field.fill(local(phone("001")))
    await expect(field).to_have_value(re.compile(r"^07\d\d \d{3} 001$"))
    await send.click()
    await expect(dialog.get_by_text("Not paid")).to_be_visible()
    await expect(dialog.get_by_text("Nothing was charged. You can try again now.")).to_be_visible()
    await shots.take(client, "cancelled")
    failed = await stack.api.get(f"/v1/bookings/{booking['id']}", headers=account.headers)
    assert failed.json()["payment"]["status"] == "cancelled"
    await dialog.get_by_role("button", name="Try again").click()

    await field.fill(local(phone("100")))
    await send.click()
    await expect(dialog.get_by_role("heading", name="Payment received")).to_be_visible()
    receipt = await receipt_of_last_payment(stack)
    await expect(dialog).to_contain_text(receipt)
    await shots.take(client, "retried-paid")

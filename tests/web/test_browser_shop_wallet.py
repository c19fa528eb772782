"""The shop and the wallet in a real Chromium against the real stack: an order is placed and paid,
a deposit is credited and appears in the history; at a phone's and a desktop's size."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Page, expect

from session_api.models import Product
from tests.session_api.fixtures import PASSWORD
from tests.session_api.flows.flow import Flow, phone
from tests.web.browser import Browsers, Shots

pytestmark = pytest.mark.timeout(120)


async def add_products(stack: Flow) -> None:
    async with stack.session_api.state.sessionmaker() as session, session.begin():
        session.add_all(
            [
                Product(id=uuid.uuid4(), sku="JOURNAL", name="Gratitude journal", price=1200),
                Product(id=uuid.uuid4(), sku="CARDS", name="Breathing cards", price=800),
            ]
        )


async def signed_in(stack: Flow, browsers: Browsers, name: str, *, at: str = "/signin") -> Page:
    """A new client signed in from `at` (a private page sends them to sign in and back)."""
    account = await stack.account(name=name)
    page = await browsers.person()
    await page.goto(at)
    await page.get_by_label("Email").fill(account.user.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    return page


async def pay_in_dialog(page: Page, stack: Flow, number: str | None) -> str:
    """Send the prompt from the open payment dialog; the receipt it shows once paid."""
    dialog = page.get_by_role("dialog", name="Pay with M-Pesa")
    if number is not None:
        await dialog.get_by_label("M-Pesa phone number").fill(number)
    await dialog.get_by_role("button", name="Send M-Pesa prompt").click()
    await expect(dialog.get_by_role("heading", name="Payment received")).to_be_visible()
    receipt: str = (await stack.ledger())[0]["receipt"]
    await expect(dialog).to_contain_text(receipt)
    return receipt


async def test_a_shop_order_is_placed_and_paid(
    stack: Flow, browsers: Browsers, shots: Shots
) -> None:
    await add_products(stack)
    page = await signed_in(stack, browsers, "Achieng Njeri")
    await expect(page.get_by_role("heading", name="Therapists")).to_be_visible()

    await page.get_by_role("link", name="Shop").click()
    await page.get_by_role("button", name="Add Gratitude journal to cart").click()
    await page.get_by_role("button", name="Add Breathing cards to cart").click()
    await expect(page.get_by_role("link", name="Cart (2) · KES 2,000")).to_be_visible()
    await shots.take(page, "shop")
    await page.get_by_role("link", name="Cart (2) · KES 2,000").click()

    await page.get_by_role("button", name="Place order").click()
    await expect(page.get_by_text("Enter the address we deliver to.")).to_be_visible()
    await page.get_by_label("Delivery address").fill("12 Moi Avenue")
    await page.get_by_label("Your phone number").fill(phone("100"))
    await expect(page.locator(".totals")).to_contain_text("KES 2,300")
    await shots.take(page, "checkout")
    await page.get_by_role("button", name="Place order").click()

    order = page.get_by_test_id("order")
    await expect(order).to_contain_text("Waiting for payment")
    await shots.take(page, "order-pending")
    await order.get_by_role("button", name="Pay with M-Pesa").click()
    await shots.take(page, "order-pay-dialog")
    receipt = await pay_in_dialog(page, stack, None)
    await shots.take(page, "order-paid-dialog")
    await page.get_by_role("button", name="Done").click()
    await expect(order).to_contain_text("Paid")
    await expect(order).to_contain_text(receipt)
    await expect(order.get_by_role("button", name="Pay with M-Pesa")).to_have_count(0)
    await shots.take(page, "order-paid")


async def test_a_deposit_is_credited_and_appears_in_the_history(
    stack: Flow, browsers: Browsers, shots: Shots
) -> None:
    # A link to the wallet opened signed out comes back to the wallet after signing in.
    page = await signed_in(stack, browsers, "Kipchoge Ruto", at="/wallet")
    await expect(page).to_have_url(re.compile(r"/wallet$"))
    balance = page.get_by_test_id("balance")
    await expect(balance).to_have_text("KES 0")

    await page.get_by_label("Amount to add (KES)").fill("5")
    await page.get_by_role("button", name="Add money").click()
    await expect(page.get_by_text("Enter whole shillings from KES 10")).to_be_visible()
    await page.get_by_label("Amount to add (KES)").fill("1500")
    await page.get_by_role("button", name="Add money").click()
    await shots.take(page, "deposit-dialog")
    receipt = await pay_in_dialog(page, stack, phone("100"))
    await page.get_by_role("button", name="Done").click()

    await expect(balance).to_have_text("KES 1,500")
    deposit = page.get_by_test_id("deposit")
    await expect(deposit).to_contain_text("Credited")
    await expect(deposit).to_contain_text("KES 1,500")
    await deposit.locator("summary").click()
    await expect(deposit).to_contain_text(receipt)
    await shots.take(page, "wallet-credited")

import pytest

from payment_gateway.integrations.daraja import (
    DarajaRejected,
    DarajaSubscriberBusy,
    DarajaUnavailable,
    Outcome,
    is_recognised,
    outcome_for,
    outcome_for_no_answer,
    outcome_for_rejection,
    outcome_for_unreachable,
)

EXPECTED = {
    "0": ("completed", "paid"),
    "1": ("failed", "insufficient_funds"),
    "2": ("failed", "amount_limit"),
    "3": ("failed", "amount_above_maximum"),
    "4": ("failed", "daily_limit_exceeded"),
    "8": ("failed", "merchant_balance_limit"),
    "17": ("failed", "duplicate_within_2_minutes"),
    "26": ("failed", "system_busy"),
    "1001": ("failed", "subscriber_busy"),
    "1019": ("timeout", "prompt_expired"),
    "1025": ("failed", "prompt_not_sent"),
    "1031": ("cancelled", "customer_cancelled"),
    "1032": ("cancelled", "customer_cancelled"),
    "1036": ("timeout", "prompt_not_delivered"),
    "1037": ("timeout", "phone_unreachable"),
    "2001": ("failed", "wrong_pin"),
    "2028": ("failed", "merchant_misconfigured"),
    "SFC_IC0003": ("failed", "merchant_misconfigured"),
    "4999": ("pending", "processing"),
    "8006": ("failed", "pin_locked"),
    "9999": ("failed", "prompt_not_sent"),
    "E3008": ("failed", "bad_debt_contract"),
}


@pytest.mark.parametrize(("code", "expected"), EXPECTED.items())
def test_every_known_code(code: str, expected: tuple[str, str]) -> None:
    outcome = outcome_for(code)
    assert (outcome.status, outcome.reason) == expected
    assert outcome.result_code == code


@pytest.mark.parametrize(("given", "code"), [(1032, "1032"), (" 1032 ", "1032"), ("0001", "1")])
def test_codes_are_normalised(given: str | int, code: str) -> None:
    outcome = outcome_for(given)
    assert outcome.result_code == code
    assert outcome == outcome_for(code)


@pytest.mark.parametrize("code", ["12345", "X999", "", "-1"])
def test_unknown_codes_fail_and_keep_the_code(code: str) -> None:
    outcome = outcome_for(code)
    assert (outcome.status, outcome.reason) == ("failed", "unknown_result")
    assert outcome.result_code == (code or None)


@pytest.mark.parametrize("code", [*EXPECTED, "12345", "-1", "2029"])
def test_known_codes_and_plain_numbers_are_recognised(code: str) -> None:
    assert is_recognised(code)


@pytest.mark.parametrize("code", ["Success", "X999", "0x1", "1.5", "１２", "1234567890", ""])
def test_words_and_absurd_numbers_are_not_recognised(code: str) -> None:
    # Read as "unknown": the caller asks Daraja rather than failing the payment on a guess.
    assert not is_recognised(code)


def test_rejections() -> None:
    rejected = DarajaRejected(
        "Bad Request - Invalid CallBackURL", http_status=400, error_code="400.002.02"
    )
    assert outcome_for_rejection(rejected) == Outcome(
        status="failed",
        reason="daraja_rejected",
        result_code="400.002.02",
    )
    busy = DarajaSubscriberBusy(
        "Unable to lock subscriber", retry_after_s=60, error_code="500.001.1001"
    )
    assert (outcome_for_rejection(busy).status, outcome_for_rejection(busy).reason) == (
        "failed",
        "subscriber_busy",
    )


def test_retries_that_never_reached_daraja_fail_as_unavailable() -> None:
    outcome = outcome_for_unreachable(DarajaUnavailable("timed out", maybe_processed=False))
    assert (outcome.status, outcome.reason) == ("failed", "daraja_unavailable")


def test_no_answer_is_a_timeout() -> None:
    outcome = outcome_for_no_answer()
    assert (outcome.status, outcome.reason) == ("timeout", "no_response")

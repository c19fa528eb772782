import json

import pytest

from payment_gateway.integrations.daraja import (
    DarajaAuthError,
    DarajaError,
    DarajaRateLimited,
    DarajaRejected,
    DarajaSubscriberBusy,
    DarajaTokenInvalid,
    DarajaUnavailable,
)
from payment_gateway.integrations.daraja.errors import BackoffHints, classify


def envelope(code: str, message: str, request_id: str = "req-1") -> str:
    return json.dumps({"requestId": request_id, "errorCode": code, "errorMessage": message})


@pytest.mark.parametrize(
    ("status", "text", "expected", "retryable"),
    [
        (
            400,
            envelope("400.002.02", "Bad Request - Invalid BusinessShortCode"),
            DarajaRejected,
            False,
        ),
        (400, envelope("400.002.02", "Bad Request - Invalid CallBackURL"), DarajaRejected, False),
        (400, envelope("400.002.05", "Invalid Request Payload"), DarajaRejected, False),
        (404, envelope("404.001.01", "Resource not found"), DarajaRejected, False),
        (405, envelope("405.001", "Method Not Allowed"), DarajaRejected, False),
        (400, envelope("400.001", "Invalid ShortCode"), DarajaRejected, False),
        (500, envelope("500.001.1001", "Wrong credentials"), DarajaRejected, False),
        (
            500,
            envelope("500.001.1001", "[MerchantValidate] - Wrong credentials"),
            DarajaRejected,
            False,
        ),
        (500, envelope("500.001.1001", "Merchant does not exist"), DarajaRejected, False),
        (
            500,
            envelope("500.002.1001", "Duplicate OriginatorConversationID"),
            DarajaRejected,
            False,
        ),
        (
            401,
            json.dumps({"fault": {"faultstring": "Invalid API call as no apiproduct match found"}}),
            DarajaRejected,
            False,
        ),
        (404, envelope("404.001.03", "Invalid Access Token"), DarajaTokenInvalid, True),
        (400, envelope("400.003.01", "Invalid Access Token"), DarajaTokenInvalid, True),
        (
            401,
            envelope("401.002.01", "Error Occurred - Invalid Access Token - XXX"),
            DarajaTokenInvalid,
            True,
        ),
        (401, envelope("401.001", "Invalid Access Token"), DarajaTokenInvalid, True),
        (401, "", DarajaTokenInvalid, True),
        (400, envelope("400.008.01", "Invalid Authentication passed"), DarajaAuthError, False),
        (
            500,
            envelope(
                "500.001.1001",
                "Unable to lock subscriber, a transaction is already in process for the current "
                "subscriber",
            ),
            DarajaSubscriberBusy,
            True,
        ),
        (
            500,
            envelope("500.003.02", "Error Occurred: Spike Arrest Violation"),
            DarajaRateLimited,
            True,
        ),
        (
            500,
            envelope("500.003.02", "System is busy. Please try again in few minutes."),
            DarajaRateLimited,
            True,
        ),
        (500, envelope("500.003.03", "Quota Violation"), DarajaRateLimited, True),
        (
            500,
            json.dumps({"fault": {"faultstring": "Spike arrest violation. Allowed rate : 5ps"}}),
            DarajaRateLimited,
            True,
        ),
        (429, "Too Many Requests", DarajaRateLimited, True),
        (500, envelope("500.003.1001", "Internal Server Error"), DarajaUnavailable, True),
        (
            500,
            envelope("500.001.1001", "The transaction is being processed"),
            DarajaUnavailable,
            True,
        ),
        (503, "<html><body>Service Unavailable</body></html>", DarajaUnavailable, True),
        (500, "<soapenv:Envelope><soapenv:Body/></soapenv:Envelope>", DarajaUnavailable, True),
        (502, "", DarajaUnavailable, True),
        (200, "<html>captive portal</html>", DarajaUnavailable, True),
        (404, "<html>Not Found</html>", DarajaRejected, False),
        (500, "[1, 2]", DarajaUnavailable, True),
    ],
)
def test_answers_map_onto_the_hierarchy(
    status: int, text: str, expected: type[DarajaError], retryable: bool
) -> None:
    error = classify(http_status=status, text=text)
    assert type(error) is expected
    assert error.retryable is retryable
    assert error.http_status == status
    assert isinstance(error, DarajaError)


def test_the_envelope_fields_are_carried() -> None:
    error = classify(
        http_status=400,
        text=envelope("400.002.02", "Bad Request - Invalid PhoneNumber", "9458-79414631-1"),
    )
    assert (error.error_code, error.request_id, error.message) == (
        "400.002.02",
        "9458-79414631-1",
        "Bad Request - Invalid PhoneNumber",
    )
    assert error.body is not None and "Invalid PhoneNumber" in error.body
    assert str(error) == (
        "Bad Request - Invalid PhoneNumber code=400.002.02 http=400 request_id=9458-79414631-1"
    )


def test_system_busy_is_rate_limited_for_longer_than_spike_arrest() -> None:
    hints = BackoffHints(spike_arrest_s=5, system_busy_s=120, quota_s=60)
    spike = classify(
        http_status=500,
        text=envelope("500.003.02", "Error Occurred: Spike Arrest Violation"),
        hints=hints,
    )
    busy = classify(
        http_status=500,
        text=envelope("500.003.02", "System is busy. Please try again in few minutes."),
        hints=hints,
    )
    quota = classify(http_status=500, text=envelope("500.003.03", "Quota Violation"), hints=hints)
    assert isinstance(spike, DarajaRateLimited) and isinstance(busy, DarajaRateLimited)
    assert isinstance(quota, DarajaRateLimited)
    assert (spike.kind, spike.retry_after_s) == ("spike_arrest", 5)
    assert (busy.kind, busy.retry_after_s) == ("system_busy", 120)
    assert (quota.kind, quota.retry_after_s) == ("quota", 60)


def test_a_retry_after_header_wins_over_the_hint() -> None:
    error = classify(
        http_status=500,
        text=envelope("500.003.02", "Error Occurred: Spike Arrest Violation"),
        retry_after_header="7",
    )
    assert isinstance(error, DarajaRateLimited) and error.retry_after_s == 7


def test_subscriber_busy_carries_its_wait() -> None:
    error = classify(
        http_status=500,
        text=envelope(
            "500.001.1001", "Unable to lock subscriber, a transaction is already in process"
        ),
        hints=BackoffHints(subscriber_busy_s=75),
    )
    assert isinstance(error, DarajaSubscriberBusy) and error.retry_after_s == 75


@pytest.mark.parametrize(
    ("status", "maybe_processed"), [(502, True), (504, True), (503, False), (500, False)]
)
def test_gateway_timeouts_may_have_been_processed(status: int, maybe_processed: bool) -> None:
    error = classify(http_status=status, text="<html>error</html>")
    assert isinstance(error, DarajaUnavailable) and error.maybe_processed is maybe_processed


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (400, "", DarajaAuthError),
        (401, "", DarajaAuthError),
        (400, envelope("400.008.02", "Invalid grant type passed"), DarajaAuthError),
        (503, "", DarajaUnavailable),
        (500, envelope("500.003.02", "Error Occurred: Spike Arrest Violation"), DarajaRateLimited),
    ],
)
def test_oauth_answers(status: int, text: str, expected: type[DarajaError]) -> None:
    assert type(classify(http_status=status, text=text, oauth=True)) is expected


def test_bodies_are_bounded() -> None:
    error = classify(http_status=503, text="<html>" + "x" * 10_000 + "</html>")
    assert error.body is not None and len(error.body) == 2000

import io
import json
import logging
import re
import sys
import uuid
from datetime import datetime

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from shared.logging import (
    configure_logging,
    mask_checkout_ids,
    mask_phone_numbers,
    mask_processor,
    redact,
)

# Unit tests: anything slower than this is stuck.
pytestmark = pytest.mark.timeout(20)

significant = st.from_regex(r"\A[17][0-9]{8}\Z", fullmatch=True)
prefix = st.sampled_from(["", "0", "254", "+254", "+254 ", "254-"])
separator = st.sampled_from(["", " ", "-"])
# Text around a number must not itself continue the digit run, and what touches the number is not
# a letter or digit either (that would make the number part of an identifier, left alone).
surrounding = st.text(
    alphabet=st.characters(blacklist_categories=["Nd"], blacklist_characters="+"), max_size=20
)
boundary = st.sampled_from([" ", "=", ":", "/", "(", '"', ",", "\n", "_"])


def spelled(number: str, prefix: str, sep: str) -> str:
    return f"{prefix}{number[:3]}{sep}{number[3:6]}{sep}{number[6:]}"


class TestMaskPhoneNumbers:
    @given(significant, prefix, separator, surrounding, surrounding, boundary, boundary)
    def test_no_nine_digit_run_survives_and_the_last_four_do(
        self, number: str, pre: str, sep: str, before: str, after: str, left: str, right: str
    ) -> None:
        text = before + left + spelled(number, pre, sep) + right + after
        masked = mask_phone_numbers(text)
        digits_only = re.sub(r"\D", "", masked)
        assert number not in digits_only
        assert number[-4:] in digits_only

    def test_keeps_other_numbers(self) -> None:
        assert mask_phone_numbers("order 12345 cost 250000") == "order 12345 cost 250000"

    def test_masks_all_numbers_in_a_string(self) -> None:
        text = "from 0712345678 to 254798765432"
        assert mask_phone_numbers(text) == "from ******5678 to ********5432"

    def test_masks_a_url_encoded_plus(self) -> None:
        assert mask_phone_numbers("?phone=%2B254712345678") == "?phone=%2B********5678"

    @given(st.uuids(), significant)
    def test_leaves_uuids_whole_and_still_masks_the_phone_beside_them(
        self, value: uuid.UUID, number: str
    ) -> None:
        text = f"id={value} hex={value.hex} phone=0{number}"
        assert mask_phone_numbers(text) == f"id={value} hex={value.hex} phone=******{number[-4:]}"

    @given(st.from_regex(r"\A[0-9a-f]{13,64}\Z", fullmatch=True))
    def test_leaves_hex_ids_whole(self, value: str) -> None:
        assert mask_phone_numbers(f"request_id={value}") == f"request_id={value}"

    def test_leaves_phone_shaped_runs_inside_ids_whole(self) -> None:
        ids = [
            "ab0712345678cd0c9e",  # a hex id
            "5e1f3a7c-1234-5678-9abc-254712345678",  # a UUID whose groups look like digits
            "9749-d7a9-3200-3bd084e551601048709",  # the simulator's MerchantRequestID
        ]
        for value in ids:
            assert mask_phone_numbers(value) == value


class TestMaskCheckoutIds:
    @given(significant, st.datetimes(min_value=datetime(2000, 1, 1)))
    def test_masks_the_msisdn_and_keeps_the_time_and_last_four(
        self, number: str, at: datetime
    ) -> None:
        stamp = f"{at:%d%m%Y%H%M%S}{at.microsecond // 1000:03d}"
        checkout_id = f"ws_CO_{stamp}{number}"

        masked = redact(f"checkout_request_id={checkout_id},")

        assert masked == f"checkout_request_id=ws_CO_{stamp}*****{number[-4:]},"

    def test_leaves_old_ids_without_a_phone_alone(self) -> None:
        for old in ("ws_CO_260520211133524545", "ws_CO_DMZ_264695293_11032019122104433"):
            assert mask_checkout_ids(old) == old


class TestRedact:
    def test_hides_the_capability_token_of_a_callback_path(self) -> None:
        token = "ebda1d9df3ad4b2af640f31f965f10432bd3cd8f"
        assert redact(f"/v1/callbacks/stk/{token}") == "/v1/callbacks/stk/***"
        assert (
            redact(f'POST http://gw:8001/v1/callbacks/stk/{token}?x=1 "HTTP/1.1 200 OK"')
            == 'POST http://gw:8001/v1/callbacks/stk/***?x=1 "HTTP/1.1 200 OK"'
        )

    def test_hides_credentials(self) -> None:
        jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
        assert redact(f"token {jwt} used") == "token *** used"
        assert redact("Authorization: Bearer 0A1b2C3d4E5f6G7h8I9j") == "Authorization: Bearer ***"
        assert redact("Basic dGVzdC1jb25zdW1lci1rZXk6c2VjcmV0") == "Basic ***"
        assert redact("('$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', 1)") == "('$argon2***', 1)"
        assert redact("postgresql://app:pw@db.internal:5432/app") == (
            "postgresql://app:***@db.internal:5432/app"
        )

    def test_hides_the_local_part_of_email_addresses(self) -> None:
        assert redact("login failed for jane.doe+x@example.co.ke") == (
            "login failed for ***@example.co.ke"
        )

    def test_takes_row_values_out_of_database_errors(self) -> None:
        message = (
            "(sqlalchemy.dialects.postgresql.asyncpg.Error) invalid input for query argument $2:"
            " 'jane@example.com' (expected int, got str)\n"
            "[SQL: INSERT INTO user_account (email, password_hash) VALUES ($1, $2)]\n"
            "[parameters: ('jane@example.com', '$argon2id$v=19$m=65536$abc')]\n"
            "(Background on this error at: https://sqlalche.me/e/21/dbapi)"
        )
        assert redact(message) == (
            "(sqlalchemy.dialects.postgresql.asyncpg.Error) invalid input for query argument $2:"
            " *** (expected int, got str)\n"
            "[SQL: INSERT INTO user_account (email, password_hash) VALUES ($1, $2)]\n"
            "[parameters hidden]\n"
            "(Background on this error at: https://sqlalche.me/e/21/dbapi)"
        )
        assert redact('invalid input syntax for type uuid: "jane"') == (
            'invalid input syntax for type uuid: "***"'
        )
        assert redact("DETAIL:  Key (email)=(jane@example.com) already exists.") == (
            "DETAIL:  Key (email)=(***) already exists."
        )
        assert redact("Failing row contains (1, jane, null).") == "Failing row contains (***)."


class TestMaskProcessor:
    def test_masks_nested_values_numbers_and_secret_keys(self) -> None:
        event = {
            "event": "callback for 254708374149",
            "body": {"PhoneNumber": 254708374149, "items": ["0708374149"], "Amount": 1},
            "password": "hunter2",
            "consumer_secret": "s3cr3t",
            "headers": {"Authorization": "Basic abc"},
        }
        masked = mask_processor(None, "info", event)
        assert masked["event"] == "callback for ********4149"
        assert masked["body"]["PhoneNumber"] == "********4149"
        assert masked["body"]["items"] == ["******4149"]
        assert masked["body"]["Amount"] == 1
        assert masked["password"] == "***"
        assert masked["consumer_secret"] == "***"
        assert masked["headers"] == {"Authorization": "***"}

    def test_redacts_the_repr_of_other_objects(self) -> None:
        masked = mask_processor(None, "info", {"error": ValueError("no 0712345678")})
        assert masked["error"] == "ValueError('no ******5678')"


class TestConfiguredOutput:
    def test_rendered_log_lines_are_masked_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        configure_logging(json=True, service="test")
        structlog.get_logger("t").info("paying", phone="+254 712 345 678")
        line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert line["phone"] == "+*** *** **5 678"
        assert line["service"] == "test"

    def test_library_lines_and_their_exceptions_are_redacted(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging(json=True)
        library = logging.getLogger("some.library")
        library.info("HTTP Request: POST %s", "http://gw/v1/callbacks/stk/0123456789abcdef")
        try:
            raise RuntimeError("[parameters: ('jane@example.com', '0712345678')]")
        except RuntimeError:
            library.exception("failed for %s", "jane@example.com")
        request, failure = (json.loads(line) for line in capsys.readouterr().out.splitlines())
        assert request["event"] == "HTTP Request: POST http://gw/v1/callbacks/stk/***"
        assert failure["event"] == "failed for ***@example.com"
        assert "RuntimeError: [parameters hidden]" in failure["exception"]
        assert "jane" not in failure["exception"]

    def test_uvicorn_access_lines_never_show_a_callback_token(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging(json=True)
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "10.0.0.1:1",
            "POST",
            "/v1/callbacks/stk/0a1b2c3d4e",
            "1.1",
            200,
        )
        assert "0a1b2c3d4e" not in capsys.readouterr().out

    def test_lines_go_to_stdout_as_it_is_when_they_are_written(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Loggers are cached on first use: a stream bound at configuration time (a closed test
        # capture) would break every later line.
        configure_logging(json=True)
        cached = structlog.get_logger("cached")
        cached.info("first")
        later = io.StringIO()
        monkeypatch.setattr(sys, "stdout", later)
        cached.info("second")
        logging.getLogger("some.library").warning("third")
        assert [json.loads(line)["event"] for line in later.getvalue().splitlines()] == [
            "second",
            "third",
        ]

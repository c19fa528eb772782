"""Every sentence a payer sees: one for each reason a payment can end with, written for the
person holding the phone."""

from __future__ import annotations

import pytest

from payment_gateway.integrations.daraja import catalogue, outcome_for
from payment_gateway.payment import messages

REASONS = sorted(catalogue.reasons())
JARGON = ("Daraja", "STK", "ResultCode", "callback", "API")


class TestForReason:
    @pytest.mark.parametrize("reason", REASONS)
    def test_every_reason_the_catalogue_gives_has_its_own_sentence(self, reason: str) -> None:
        assert reason in messages.BY_REASON

    @pytest.mark.parametrize("reason", REASONS)
    def test_each_is_a_full_sentence_without_protocol_words(self, reason: str) -> None:
        sentence = messages.for_reason(reason)
        assert sentence.endswith(".")
        for jargon in JARGON:
            assert jargon not in sentence

    def test_the_sentences_the_issue_quotes(self) -> None:
        assert messages.for_reason(outcome_for("0").reason) == "Payment received. Thank you."
        assert messages.for_reason(outcome_for("1032").reason) == (
            "You cancelled the M-Pesa prompt."
        )

    def test_an_unknown_reason_reads_as_a_failure_to_try_again(self) -> None:
        assert messages.for_reason("never_heard_of") == messages.for_reason("unknown_result")


class TestProgressSentences:
    def test_sent_names_the_amount_with_thousands_separators(self) -> None:
        assert messages.sent(150_000) == (
            "Check your phone and enter your M-Pesa PIN to pay KES 150,000."
        )

    def test_paid_names_the_receipt_when_there_is_one(self) -> None:
        assert messages.paid("RKL0ABC123") == "Payment received. M-Pesa receipt RKL0ABC123."
        assert messages.paid(None) == messages.PAID

    @pytest.mark.parametrize("sentence", [messages.PENDING, messages.RETRYING, messages.PAID])
    def test_progress_sentences_carry_no_protocol_words(self, sentence: str) -> None:
        assert sentence.endswith(".")
        for jargon in JARGON:
            assert jargon not in sentence

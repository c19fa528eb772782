from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from shared.app import create_base_app
from shared.schemas import (
    AwareTimestamp,
    MultilineText,
    SettingLimits,
    StrictModel,
    Text,
    Timestamp,
    unsafe_text,
)

CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]


class Body(StrictModel):
    name: Text = Field(max_length=50)
    notes: MultilineText = ""
    password: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    at: Timestamp | None = None
    starts: AwareTimestamp | None = None


class Outer(StrictModel):
    body: Body


class TestText:
    @given(st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=50))
    def test_any_printable_text_is_accepted_as_given(self, text: str) -> None:
        assert Body(name=text, notes=text).name == text

    @pytest.mark.parametrize("character", CONTROL)
    @pytest.mark.parametrize("field", ["name", "notes", "password"])
    def test_nul_and_control_characters_are_refused_in_every_string_field(
        self, field: str, character: str
    ) -> None:
        values = {"name": "ok", field: f"a{character}b"}

        with pytest.raises(ValidationError) as refused:
            Body(**values)

        assert refused.value.errors()[0]["loc"] == (field,)
        assert f"U+{ord(character):04X}" in str(refused.value)

    def test_a_lone_surrogate_is_refused(self) -> None:
        # json.loads turns "\\ud800" into one; UTF-8 (and so PostgreSQL) cannot hold it.
        with pytest.raises(ValidationError, match="lone surrogate"):
            Body(name="\ud800")

    @pytest.mark.parametrize("character", ["\t", "\n", "\r"])
    def test_tabs_and_line_breaks_only_where_text_spans_lines(self, character: str) -> None:
        assert Body(name="ok", notes=f"line{character}line").notes == f"line{character}line"
        with pytest.raises(ValidationError, match="one line of text"):
            Body(name=f"line{character}line")

    def test_strings_nested_anywhere_are_checked_and_located(self) -> None:
        with pytest.raises(ValidationError) as refused:
            Body(name="ok", metadata={"order": {"lines": ["fine", "bad\x00"]}})

        assert "order.lines[1]" in str(refused.value)
        assert "U+0000 (NUL)" in str(refused.value)

    def test_object_keys_are_checked_too(self) -> None:
        with pytest.raises(ValidationError, match="key 'a\\\\x00'"):
            Body(name="ok", metadata={"a\x00": 1})

    def test_nesting_is_bounded_without_exhausting_the_stack(self) -> None:
        deep: Any = "x"
        for _ in range(5_000):
            deep = [deep]

        with pytest.raises(ValidationError, match="nested deeper than"):
            Body(name="ok", metadata={"deep": deep})

    def test_nested_models_are_checked(self) -> None:
        with pytest.raises(ValidationError) as refused:
            Outer.model_validate({"body": {"name": "a\x00"}})

        assert refused.value.errors()[0]["loc"][0] == "body"

    def test_the_documented_pattern_says_the_same(self) -> None:
        schema = Body.model_json_schema()["properties"]

        assert schema["name"]["pattern"] == r"^[^\u0000-\u001F\u007F]*$"
        assert schema["name"]["maxLength"] == 50
        assert "pattern" in schema["notes"]

    @given(st.text(max_size=30))
    def test_unsafe_text_agrees_with_the_model(self, text: str) -> None:
        try:
            Body(name="ok", notes=text)
        except ValidationError:
            assert unsafe_text(text) is not None
        else:
            assert unsafe_text(text) is None


class TestStrictModel:
    def test_an_unknown_field_is_refused_by_name(self) -> None:
        with pytest.raises(ValidationError) as refused:
            Body.model_validate({"name": "ok", "nmae": "typo"})

        assert refused.value.errors()[0]["loc"] == ("nmae",)
        assert refused.value.errors()[0]["type"] == "extra_forbidden"

    def test_the_document_says_so(self) -> None:
        assert Body.model_json_schema()["additionalProperties"] is False


class TestTimestamp:
    @pytest.mark.parametrize(
        "moment",
        ["1970-01-01T00:00:00+14:00", "2999-12-31T23:59:59-12:00", "2026-11-22T07:00:00Z"],
    )
    def test_the_supported_years_are_accepted(self, moment: str) -> None:
        assert Body(name="ok", at=moment, starts=moment).at == datetime.fromisoformat(moment)

    @pytest.mark.parametrize(
        "moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "3000-01-01T00:00Z"]
    )
    def test_other_years_are_refused_naming_the_range(self, moment: str) -> None:
        with pytest.raises(ValidationError, match="years 1970 to 2999"):
            Body(name="ok", at=moment)

    def test_the_range_leaves_room_for_any_offset_and_a_booking_length(self) -> None:
        latest = datetime(2999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))

        assert (latest.astimezone(UTC) + timedelta(days=1)).year == 3000

    def test_the_document_names_the_range(self) -> None:
        schema = Body.model_json_schema()["properties"]["starts"]["anyOf"][0]

        assert "Years 1970 to 2999." in schema["description"]


class TestSettingLimits:
    def test_the_openapi_document_shows_the_settings_values(self) -> None:
        class Limits:
            LOWEST = 10
            HIGHEST = 500

        class Deposit(BaseModel):
            amount: Annotated[int, SettingLimits("LOWEST", "HIGHEST")]

        app = create_base_app(title="t", version="1", description="", lifespan=None)
        app.state.settings = Limits()

        @app.post("/deposits")
        async def deposit(body: Deposit) -> None:
            return None

        amount = app.openapi()["components"]["schemas"]["Deposit"]["properties"]["amount"]
        assert (amount["minimum"], amount["maximum"]) == (10, 500)
        assert not any(key.startswith("x-") for key in amount)

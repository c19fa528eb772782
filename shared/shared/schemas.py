"""Building blocks for the request shapes of every service, so that no input reaches the database
in a form it cannot store or compare: a strict base model for bodies, text without control
characters, timestamps within a sane range, the integer bound of an ``integer`` column, and
limits documented from the settings that enforce them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

INT32_MAX = 2**31 - 1
"""The largest PostgreSQL ``integer``: a numeric filter compared with such a column stops here."""

EARLIEST_YEAR = 1970
LATEST_YEAR = 2999
MAX_NESTING = 32

# PostgreSQL text and jsonb cannot hold NUL, and UTF-8 cannot encode the lone surrogate that
# json.loads makes of "\ud800"; the other C0 controls mean nothing in this API's text. Tab, line
# feed and carriage return are allowed where text may span lines.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_PATTERN = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$"
_PATTERN_ONE_LINE = r"^[^\u0000-\u001F\u007F]*$"


def _describe(character: str) -> str:
    name = unicodedata.name(character, "")
    if 0xD800 <= ord(character) <= 0xDFFF:
        name = "a lone surrogate"
    elif not name:
        names = {
            "\x00": "NUL",
            "\t": "TAB",
            "\n": "LINE FEED",
            "\r": "CARRIAGE RETURN",
            "\x7f": "DEL",
        }
        name = names.get(character, "a control character")
    return f"U+{ord(character):04X} ({name})"


def unsafe_text(value: str, *, multiline: bool = True) -> str | None:
    """Why `value` cannot be accepted as text, or None."""
    found = (_UNSAFE if multiline else _UNSAFE_ONE_LINE).search(value)
    if found is None:
        return None
    accepted = (
        "text without control characters other than tabs and line breaks"
        if multiline
        else "one line of text without control characters"
    )
    return (
        f"contains {_describe(found.group())} at position {found.start()}; {accepted} is accepted"
    )


@dataclass(frozen=True)
class _Text:
    multiline: bool

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, value: str) -> str:
        problem = unsafe_text(value, multiline=self.multiline)
        if problem is not None:
            raise ValueError(problem)
        return value

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = _PATTERN if self.multiline else _PATTERN_ONE_LINE
        return json_schema


Text = Annotated[str, _Text(multiline=False)]
"""One line of text: no control characters, tabs or line breaks."""
MultilineText = Annotated[str, _Text(multiline=True)]
"""Free text (notes, a bio): tabs and line breaks allowed, no other control character."""


def supported_moment(value: datetime) -> datetime:
    """`value`, or ValueError if its year is outside the supported range."""
    # Checked on the year as given: within it, converting to UTC or adding a booking's length
    # can never leave the range Python and PostgreSQL both represent.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}; got {value.year}")
    return value


@dataclass(frozen=True)
class _Years:
    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    @staticmethod
    def _check(value: datetime) -> datetime:
        return supported_moment(value)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        bounds = f"Years {EARLIEST_YEAR} to {LATEST_YEAR}."
        given = json_schema.get("description")
        json_schema["description"] = f"{given} {bounds}" if given else bounds
        return json_schema


Timestamp = Annotated[datetime, _Years()]
"""An ISO 8601 date and time within the supported years (a UTC offset is optional)."""
AwareTimestamp = Annotated[AwareDatetime, _Years()]
"""An ISO 8601 date and time with a UTC offset, within the supported years."""


def _unsafe_anywhere(value: Any) -> str | None:
    """The first string (a value or an object key) in a parsed JSON value that is not storable
    text, with where it is; iterative so that deep nesting cannot exhaust the stack."""
    pending: list[tuple[str, Any, int]] = [("", value, 0)]
    while pending:
        where, item, depth = pending.pop()
        if depth > MAX_NESTING:
            return f"{where or 'value'}: nested deeper than {MAX_NESTING} levels"
        if isinstance(item, str):
            problem = unsafe_text(item)
            if problem is not None:
                return f"{where}: {problem}" if where else problem
        elif isinstance(item, dict):
            for key, child in item.items():
                path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and (problem := unsafe_text(key)) is not None:
                    return f"key {path!r}: {problem}"
                pending.append((path, child, depth + 1))
        elif isinstance(item, list | tuple):
            pending.extend((f"{where}[{i}]", child, depth + 1) for i, child in enumerate(item))
    return None


class StrictModel(BaseModel):
    """The base of every request body. An unknown field is refused rather than ignored (a
    misspelt optional field would otherwise silently do nothing), and no string anywhere in the
    body, however deeply nested, may hold a character the database cannot store or any control
    character but tab and line breaks. Fields typed `Text` are held to one line on top of that."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        problem = _unsafe_anywhere(value)
        if problem is not None:
            raise ValueError(problem)
        return value


@dataclass(frozen=True)
class SettingLimits:
    """Documents a number's limits as the names of the settings that enforce them (in the
    service, because a deployment may change them); the app's OpenAPI document shows their
    values, so the document and the check cannot disagree."""

    minimum: str | None = None
    maximum: str | None = None

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if self.minimum:
            json_schema["x-minimum-setting"] = self.minimum
        if self.maximum:
            json_schema["x-maximum-setting"] = self.maximum
        return json_schema


def resolve_setting_limits(node: Any, settings: Any) -> None:
    """Replace every `SettingLimits` marker in an OpenAPI document with the settings' values."""
    if isinstance(node, dict):
        for keyword in ("minimum", "maximum"):
            name = node.pop(f"x-{keyword}-setting", None)
            if name is not None:
                node[keyword] = getattr(settings, name)
        for child in node.values():
            resolve_setting_limits(child, settings)
    elif isinstance(node, list):
        for child in node:
            resolve_setting_limits(child, settings)

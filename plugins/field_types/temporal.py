"""Date, date/time and time fields, stored as ISO 8601 text in the record's JSONB.

Text keeps ``data`` readable and sorts correctly: dates and UTC timestamps in
these fixed forms order the same as text and as their typed casts. Date/times
must carry an offset because a naive time means a different instant to every
user; they are stored in UTC with a ``Z``. The accepted input forms are narrowed
by patterns shared with the SQL predicates (``fromisoformat`` alone accepts many
more spellings than a user or PostgreSQL would expect).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from trellis.metadata.field_types import ORDERED_OPERATORS, FieldValueError

from .base import BuiltinFieldType, require_text, sql_matches, sql_trimmed

DATE_PATTERN = "[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
TIME_PATTERN = "(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,6})?)?"
ZONE_PATTERN = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])"
#: The date/time shape with the zone optional, so that a missing zone gets its own message.
DATETIME_SHAPE = f"{DATE_PATTERN}[Tt ]{TIME_PATTERN}{ZONE_PATTERN}?"
DATETIME_PATTERN = f"{DATE_PATTERN}[Tt ]{TIME_PATTERN}{ZONE_PATTERN}"

DATE_MESSAGE = "Enter a date as YYYY-MM-DD, e.g. 2026-01-31."
DATETIME_MESSAGE = "Enter a date and time in ISO 8601, e.g. 2026-01-31T09:00:00Z."
NAIVE_MESSAGE = "Include a time zone, e.g. 2026-01-31T09:00:00Z"
TIME_MESSAGE = "Enter a time as HH:MM or HH:MM:SS, e.g. 09:30."


def format_utc(moment: dt.datetime) -> str:
    """The stored form: ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"


def _sql_real_calendar_date(trimmed: str) -> str:
    """SQL: the first ten characters (already shaped YYYY-MM-DD) name a real day."""
    year, month, day = (
        f"CAST(substr({trimmed}, {start}, {length}) AS integer)"
        for start, length in ((1, 4), (6, 2), (9, 2))
    )
    last_day = (
        f"extract(day FROM make_date({year}, {month}, 1) + interval '1 month' - interval '1 day')"
    )
    return f"({year} >= 1 AND {day} <= {last_day})"


class TemporalType(BuiltinFieldType):
    """Shared base: ordered operators and a typed SQL cast."""

    operators = ORDERED_OPERATORS
    #: The value's kind in JSON Schema ``format`` (None when no standard format fits).
    schema_format: ClassVar[str | None] = None

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": ["string", "null"]}
        if self.schema_format:
            schema["format"] = self.schema_format
        return schema


class DateType(TemporalType):
    """A calendar day with no time or zone (a birthday, a close date)."""

    name = "date"
    widget = "date"
    sql_type = "date"
    schema_format = "date"
    # On a person's record a date is as likely as not their birthday.
    personal_data = "personal"

    def normalize(self, value: Any, field: dict[str, Any]) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            raise FieldValueError("Enter a date without a time, as YYYY-MM-DD.")
        if isinstance(value, dt.date):
            return value.isoformat()
        text = require_text(value, "a date")
        if not text:
            return None
        if re.fullmatch(DATETIME_SHAPE, text):
            raise FieldValueError("Enter a date without a time, as YYYY-MM-DD.")
        if not re.fullmatch(DATE_PATTERN, text):
            raise FieldValueError(DATE_MESSAGE)
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise FieldValueError(f"{text} is not a real date.") from None

    def to_formula_value(self, stored: Any, field: dict[str, Any]) -> dt.date | None:
        return None if stored is None else dt.date.fromisoformat(stored)

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        trimmed = sql_trimmed(text_expression)
        return (
            f"(CASE WHEN {sql_matches(text_expression, DATE_PATTERN)} "
            f"THEN {_sql_real_calendar_date(trimmed)} ELSE false END)"
        )


class DateTimeType(TemporalType):
    """An instant, stored in UTC; input needs an explicit offset or ``Z``."""

    name = "datetime"
    widget = "datetime"
    sql_type = "timestamptz"
    schema_format = "date-time"

    def normalize(self, value: Any, field: dict[str, Any]) -> str | None:
        if value is None:
            return None
        moment: dt.datetime | None
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            raise FieldValueError(DATETIME_MESSAGE)
        else:
            moment = self._parse(require_text(value, "a date and time"))
            if moment is None:
                return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise FieldValueError(NAIVE_MESSAGE)
        try:
            return format_utc(moment)
        except OverflowError:
            raise FieldValueError("That date and time is out of range.") from None

    @staticmethod
    def _parse(text: str) -> dt.datetime | None:
        if not text:
            return None
        if not re.fullmatch(DATETIME_SHAPE, text):
            raise FieldValueError(DATETIME_MESSAGE)
        iso = text[:10] + "T" + text[11:]
        if iso[-1] in "Zz":
            iso = iso[:-1] + "+00:00"
        try:
            return dt.datetime.fromisoformat(iso)
        except ValueError:
            raise FieldValueError(f"{text} is not a real date and time.") from None

    def to_formula_value(self, stored: Any, field: dict[str, Any]) -> dt.datetime | None:
        if stored is None:
            return None
        return dt.datetime.fromisoformat(stored.replace("Z", "+00:00"))

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        trimmed = sql_trimmed(text_expression)
        return (
            f"(CASE WHEN {sql_matches(text_expression, DATETIME_PATTERN)} "
            f"THEN {_sql_real_calendar_date(trimmed)} ELSE false END)"
        )


class TimeType(TemporalType):
    """A time of day without a zone (opening hours); stored ``HH:MM:SS[.ffffff]``.

    No JSON Schema ``format``: the standard ``time`` format requires an offset.
    """

    name = "time"
    widget = "time"
    sql_type = "time"

    def normalize(self, value: Any, field: dict[str, Any]) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.time):
            if value.tzinfo is not None:
                raise FieldValueError("Enter a time of day without a time zone.")
            return value.isoformat()
        if isinstance(value, dt.datetime | dt.date):
            raise FieldValueError(TIME_MESSAGE)
        text = require_text(value, "a time")
        if not text:
            return None
        if not re.fullmatch(TIME_PATTERN, text):
            raise FieldValueError(TIME_MESSAGE)
        return dt.time.fromisoformat(text).isoformat()

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": ["string", "null"],
            "pattern": "^(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?$",
        }

    def to_formula_value(self, stored: Any, field: dict[str, Any]) -> dt.time | None:
        return None if stored is None else dt.time.fromisoformat(stored)

    def sql_predicate(self, text_expression: str, field: dict[str, Any]) -> str | None:
        return sql_matches(text_expression, TIME_PATTERN)


TEMPORAL_TYPES = (DateType, DateTimeType, TimeType)

"""Runtime values: input conversion, blank rules, text rendering, decimal context.

Numbers are always ``decimal.Decimal`` computed in :data:`DECIMAL_CONTEXT`
(never binary floats: ``0.1 + 0.2`` must be ``0.3`` in a CRM). Blank is
``None``; blank text and ``""`` are the same thing.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from trellis.rule_engine import kinds
from trellis.rule_engine.errors import FormulaRuntimeError
from trellis.rule_engine.limits import MAX_TEXT_LENGTH

DECIMAL_CONTEXT = decimal.Context(
    prec=38,
    rounding=decimal.ROUND_HALF_UP,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
"""38 significant digits, like PostgreSQL numeric results used by the SQL side."""


UTC = dt.UTC
ZERO = Decimal(0)
ONE = Decimal(1)
SECONDS_PER_DAY = Decimal(86400)
MISSING = object()


class Environment:
    """Per-evaluation state shared by all closures of one ``evaluate`` call."""

    __slots__ = ("prior", "is_new", "now", "globals", "steps", "max_steps", "regex_timeout")

    def __init__(
        self,
        prior: Any,
        is_new: bool,
        now: dt.datetime,
        globals_: Mapping[str, Any],
        max_steps: int,
        regex_timeout: float,
    ) -> None:
        self.prior = prior
        self.is_new = is_new
        self.now = now
        self.globals = globals_
        self.steps = 0
        self.max_steps = max_steps
        self.regex_timeout = regex_timeout

    def charge(self, units: int) -> None:
        """Spend evaluation budget for data-dependent work (long text, regex)."""
        self.steps += units
        if self.steps > self.max_steps:
            raise FormulaRuntimeError(
                f"the formula exceeded its evaluation budget of {self.max_steps} steps"
            )

    def today(self) -> dt.date:
        return self.now.astimezone(UTC).date()


def to_number(value: Any) -> Decimal | None:
    """Decimal from an input value; floats go through ``str`` to avoid binary noise."""
    if value is None:
        return None
    kind = type(value)
    if kind is Decimal:
        return value
    if kind is int:
        return Decimal(value)
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise FormulaRuntimeError(f"{value!r} is not a number")
        return Decimal(repr(value))
    if kind is bool:
        raise FormulaRuntimeError("a checkbox value cannot be used as a number")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        return parse_number(value)
    raise FormulaRuntimeError(f"{type(value).__name__} value cannot be used as a number")


def parse_number(text: str) -> Decimal:
    """Parse text as a decimal number (VALUE, ISNUMBER, numbers stored as text)."""
    cleaned = text.strip()
    if not cleaned or any(char not in "0123456789.+-eE" for char in cleaned):
        raise FormulaRuntimeError(f"{text!r} is not a number")
    try:
        number = Decimal(cleaned)
    except decimal.InvalidOperation:
        raise FormulaRuntimeError(f"{text!r} is not a number") from None
    if not number.is_finite() or abs(number.adjusted()) > 1000:
        raise FormulaRuntimeError(f"{text!r} is not a usable number")
    return number


def to_text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        raise FormulaRuntimeError("a checkbox value cannot be used as text")
    return str(value)


def to_checkbox(value: Any) -> bool:
    """A checkbox is never blank: None and false-like values are FALSE."""
    if value is True or value is False:
        return value
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def to_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return ensure_aware(value).astimezone(UTC).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise FormulaRuntimeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    raise FormulaRuntimeError(f"{type(value).__name__} value cannot be used as a date")


def ensure_aware(value: dt.datetime) -> dt.datetime:
    """Naive datetimes are taken as UTC: Trellis stores timestamps in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def to_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return ensure_aware(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return ensure_aware(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            raise FormulaRuntimeError(f"{value!r} is not a date/time") from None
    raise FormulaRuntimeError(f"{type(value).__name__} value cannot be used as a date/time")


def to_time(value: Any) -> dt.time | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return ensure_aware(value).astimezone(UTC).time().replace(tzinfo=None)
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            raise FormulaRuntimeError(f"{value!r} is not a time (HH:MM:SS)") from None
    raise FormulaRuntimeError(f"{type(value).__name__} value cannot be used as a time")


def to_multi_picklist(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        parts = tuple(part.strip() for part in value.split(";") if part.strip())
    elif isinstance(value, (list, tuple, set, frozenset)):
        parts = tuple(str(part) for part in value if part is not None and part != "")
    else:
        raise FormulaRuntimeError(f"{type(value).__name__} value is not a multi-select picklist")
    return parts or None


CONVERTERS = {
    kinds.TEXT: to_text,
    kinds.PICKLIST: to_text,
    kinds.NUMBER: to_number,
    kinds.CURRENCY: to_number,
    kinds.PERCENT: to_number,
    kinds.CHECKBOX: to_checkbox,
    kinds.DATE: to_date,
    kinds.DATETIME: to_datetime,
    kinds.TIME: to_time,
    kinds.MULTI_PICKLIST: to_multi_picklist,
}


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == ()


def format_number(value: Decimal) -> str:
    """TEXT(number): plain notation, no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    text = format(value.normalize(DECIMAL_CONTEXT), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_datetime(value: dt.datetime) -> str:
    return ensure_aware(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def format_time(value: dt.time) -> str:
    return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def format_value(value: Any) -> str | None:
    """Text form of any formula value, as TEXT() renders it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, tuple):
        return ";".join(value)
    return str(value)


def check_text_length(value: str) -> str:
    if len(value) > MAX_TEXT_LENGTH:
        raise FormulaRuntimeError(
            f"the text result would be {len(value)} characters long; the limit is {MAX_TEXT_LENGTH}"
        )
    return value


def integer_argument(value: Decimal, what: str, limit: int = MAX_TEXT_LENGTH) -> int:
    """A whole-number argument (lengths, positions, digits), truncated and bounded."""
    number = int(value.to_integral_value(rounding=decimal.ROUND_DOWN))
    if abs(number) > limit:
        raise FormulaRuntimeError(f"{what} {number} is out of range (limit {limit})")
    return number


def equal(left: Any, right: Any) -> bool:
    """Formula '=': blank equals blank (and blank text is ""), blank equals nothing else."""
    if left is None or left == "":
        return right is None or right == ""
    if right is None or right == "":
        return False
    return left == right


def lookup_case_insensitive(record: Any, lowered: str) -> Any:
    """Slow path for a key absent in the record's canonical spelling."""
    try:
        items = record.items()
    except AttributeError:
        raise FormulaRuntimeError("the record must be a mapping of field names to values") from None
    for key, value in items:
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None

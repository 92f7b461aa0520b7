"""Date and time functions: TODAY NOW DATE DATEVALUE DATETIMEVALUE TIMEVALUE
YEAR MONTH DAY HOUR MINUTE SECOND WEEKDAY DAYOFYEAR ISOWEEK ISOYEAR ADDMONTHS
UNIXTIMESTAMP FROMUNIXTIME.

Date/times are UTC (as Salesforce evaluates them in formulas); TODAY() and
NOW() come from the evaluation's ``now`` so results are reproducible.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Numeric, case, cast, func, literal
from sqlalchemy import text as sql_text

from trellis.rule_engine import kinds
from trellis.rule_engine.errors import FormulaRuntimeError
from trellis.rule_engine.functions.registry import CallCheck, FunctionRegistry
from trellis.rule_engine.functions.sql_helpers import integer
from trellis.rule_engine.values import UTC, ensure_aware, integer_argument, to_datetime

EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
# How the help text names the part each date function reads.
DATE_PARTS = {
    "YEAR": "year",
    "MONTH": "month",
    "DAY": "day of the month",
    "WEEKDAY": "day of the week",
    "DAYOFYEAR": "day of the year",
    "ISOWEEK": "ISO 8601 week",
    "ISOYEAR": "ISO 8601 week-numbering year",
}


def add_months(day: dt.date, months: int) -> dt.date:
    """Salesforce ADDMONTHS: clamp to the month's end, and keep month ends
    (Jan 31 + 1 = Feb 28/29; Feb 28/29, the last day of February, + 1 = Mar 31)."""
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise FormulaRuntimeError("ADDMONTHS result is out of range")
    last_day = calendar.monthrange(year, month)[1]
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return dt.date(year, month, last_day)
    return dt.date(year, month, min(day.day, last_day))


def _parse_datetime_text(text: str) -> dt.datetime:
    cleaned = text.strip().replace("T", " ").replace("Z", "+00:00")
    try:
        return ensure_aware(dt.datetime.fromisoformat(cleaned)).astimezone(UTC)
    except ValueError:
        raise FormulaRuntimeError(f"{text!r} is not a date/time (YYYY-MM-DD HH:MM:SS)") from None


def _temporal_check(name: str, accepted: tuple[str, ...], result: str, hint: str = ""):
    def check(check: CallCheck) -> str:
        kind = check.argument_kinds[0]
        if kind not in accepted + (kinds.NULL,):
            message = (
                f"incorrect argument type for {name}: expected "
                f"{' or '.join(kinds.label(k) for k in accepted)}, received "
                f"{kinds.label(kind)}{hint}"
            )
            raise check.error(message, check.call.arguments[0])
        return result

    return check


def _today_sql(compiler: Any, node: Any, args: list) -> Any:
    if compiler.now is None:  # PostgreSQL's clock: built statements stay right tomorrow
        return cast(func.timezone("UTC", func.now()), Date())
    return literal(compiler.now.astimezone(UTC).date(), Date())


def _now_sql(compiler: Any, node: Any, args: list) -> Any:
    if compiler.now is None:
        return func.now(type_=DateTime(timezone=True))
    return literal(compiler.now, DateTime(timezone=True))


def _datevalue_sql(compiler: Any, node: Any, args: list) -> Any:
    if compiler.kind(node.arguments[0]) == kinds.DATETIME:
        return cast(func.timezone("UTC", args[0]), Date)
    return cast(args[0], Date)


def _date_part_sql(field: str, offset: int = 0) -> Any:
    def translate(compiler: Any, node: Any, args: list) -> Any:
        part = cast(func.extract(field, args[0]), Numeric)
        return part + offset if offset else part

    return translate


def _addmonths_sql(compiler: Any, node: Any, args: list) -> Any:
    if compiler.kind(node.arguments[0]) != kinds.DATE:
        raise compiler.error("ADDMONTHS on a date/time is not available in SQL", node)
    day = args[0]
    months = integer(args[1])
    month_start = func.date_trunc("month", cast(day, DateTime(timezone=False)))
    one_day = sql_text("interval '1 day'")
    month_end = cast(month_start + sql_text("interval '1 month'") - one_day, Date)
    keep_end = cast(month_start + func.make_interval(0, months + 1) - one_day, Date)
    shifted = cast(cast(day, DateTime(timezone=False)) + func.make_interval(0, months), Date)
    return case((day == month_end, keep_end), else_=shifted)


def register(registry: FunctionRegistry) -> None:
    """Register the date and time functions, one sub-family at a time."""
    _register_clock(registry)
    _register_dates(registry)
    _register_datetimes_and_times(registry)
    _register_parts(registry)
    _register_addmonths(registry)
    _register_unix_time(registry)


def _register_clock(registry: FunctionRegistry) -> None:
    """TODAY and NOW: the evaluation's clock."""

    @registry.function(
        "TODAY",
        args=[],
        returns="date",
        needs_environment=True,
        sql=_today_sql,
        description="The current date (UTC)",
    )
    def today(environment: Any) -> dt.date:
        return environment.today()

    @registry.function(
        "NOW",
        args=[],
        returns="datetime",
        needs_environment=True,
        sql=_now_sql,
        description="The current date/time",
    )
    def now(environment: Any) -> dt.datetime:
        return environment.now


def _register_dates(registry: FunctionRegistry) -> None:
    """DATE and DATEVALUE: a date built from numbers, text or a date/time."""

    @registry.function(
        "DATE",
        args=["number", "number", "number"],
        returns="date",
        sql=lambda c, n, a: func.make_date(*[integer(x) for x in a]),
        description="DATE(year, month, day): the date; an error for an invalid date",
    )
    def date(year: Decimal, month: Decimal, day: Decimal) -> dt.date:
        try:
            return dt.date(
                integer_argument(year, "year", 9999),
                integer_argument(month, "month", 99),
                integer_argument(day, "day", 99),
            )
        except ValueError as error:
            raise FormulaRuntimeError(f"invalid date: {error}") from None

    def datevalue(value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.astimezone(UTC).date()
        if isinstance(value, dt.date):
            return value
        text = value.strip()
        try:
            return (
                dt.date.fromisoformat(text[:10])
                if len(text) > 10 and text[10] in " T"
                else dt.date.fromisoformat(text)
            )
        except ValueError:
            raise FormulaRuntimeError(f"{value!r} is not a date (YYYY-MM-DD)") from None

    registry.register(
        "DATEVALUE",
        datevalue,
        min_arguments=1,
        max_arguments=1,
        check=_temporal_check("DATEVALUE", (kinds.TEXT, kinds.DATETIME, kinds.DATE), kinds.DATE),
        sql=_datevalue_sql,
        signature="DATEVALUE(datetime_or_text)",
        description="The date of a date/time (UTC) or of YYYY-MM-DD text",
    )


def _register_datetimes_and_times(registry: FunctionRegistry) -> None:
    """DATETIMEVALUE and TIMEVALUE: a date/time or a time from text or another value."""

    def datetimevalue(value: Any) -> dt.datetime | None:
        if isinstance(value, str):
            return _parse_datetime_text(value)
        return to_datetime(value)

    registry.register(
        "DATETIMEVALUE",
        datetimevalue,
        min_arguments=1,
        max_arguments=1,
        check=_temporal_check(
            "DATETIMEVALUE", (kinds.TEXT, kinds.DATE, kinds.DATETIME), kinds.DATETIME
        ),
        signature="DATETIMEVALUE(text_or_date)",
        description="Date/time from YYYY-MM-DD HH:MM:SS text (UTC) or a date",
    )

    def timevalue(value: Any) -> dt.time:
        if isinstance(value, dt.datetime):
            return value.astimezone(UTC).time().replace(tzinfo=None)
        try:
            return dt.time.fromisoformat(value.strip().rstrip("Z"))
        except ValueError:
            raise FormulaRuntimeError(f"{value!r} is not a time (HH:MM:SS.MS)") from None

    registry.register(
        "TIMEVALUE",
        timevalue,
        min_arguments=1,
        max_arguments=1,
        check=_temporal_check("TIMEVALUE", (kinds.TEXT, kinds.DATETIME), kinds.TIME),
        signature="TIMEVALUE(text_or_datetime)",
        description="Time from HH:MM:SS.MS text or of a date/time (UTC)",
    )


def _register_parts(registry: FunctionRegistry) -> None:
    """YEAR, MONTH, DAY, ..., HOUR, MINUTE, SECOND: one part of a date or a time as a number."""
    date_hint = "; use DATEVALUE(...) to take the date of a date/time"
    for name, part, sql in (
        ("YEAR", lambda d: d.year, _date_part_sql("year")),
        ("MONTH", lambda d: d.month, _date_part_sql("month")),
        ("DAY", lambda d: d.day, _date_part_sql("day")),
        ("WEEKDAY", lambda d: d.isoweekday() % 7 + 1, _date_part_sql("dow", 1)),
        ("DAYOFYEAR", lambda d: d.timetuple().tm_yday, _date_part_sql("doy")),
        ("ISOWEEK", lambda d: d.isocalendar()[1], None),
        ("ISOYEAR", lambda d: d.isocalendar()[0], None),
    ):
        registry.register(
            name,
            part,
            min_arguments=1,
            max_arguments=1,
            check=_temporal_check(name, (kinds.DATE,), kinds.NUMBER, date_hint),
            sql=sql,
            signature=f"{name}(date)",
            description=f"The {DATE_PARTS[name]} of a date as a number"
            + (" (1 = Sunday)" if name == "WEEKDAY" else ""),
        )

    time_hint = "; use TIMEVALUE(...) to take the time of a date/time"
    for name, part in (
        ("HOUR", lambda t: t.hour),
        ("MINUTE", lambda t: t.minute),
        ("SECOND", lambda t: t.second),
    ):
        registry.register(
            name,
            part,
            min_arguments=1,
            max_arguments=1,
            check=_temporal_check(name, (kinds.TIME,), kinds.NUMBER, time_hint),
            signature=f"{name}(time)",
            description=f"The {name.lower()} of a time as a number",
        )


def _register_addmonths(registry: FunctionRegistry) -> None:
    """ADDMONTHS: calendar arithmetic that keeps month ends."""

    def check_addmonths(check: CallCheck) -> str:
        kind = _temporal_check("ADDMONTHS", (kinds.DATE, kinds.DATETIME), kinds.DATE)(check)
        check.require(1, "number")
        return check.argument_kinds[0] if check.argument_kinds[0] != kinds.NULL else kind

    def addmonths(value: Any, months: Decimal) -> Any:
        count = integer_argument(months, "number of months", 120_000)
        if isinstance(value, dt.datetime):
            moment = value.astimezone(UTC)
            shifted = add_months(moment.date(), count)
            return dt.datetime.combine(shifted, moment.timetz())
        return add_months(value, count)

    registry.register(
        "ADDMONTHS",
        addmonths,
        min_arguments=2,
        max_arguments=2,
        check=check_addmonths,
        sql=_addmonths_sql,
        signature="ADDMONTHS(date, months)",
        description="The date a number of months later, keeping month ends",
    )


def _register_unix_time(registry: FunctionRegistry) -> None:
    """UNIXTIMESTAMP and FROMUNIXTIME: seconds since 1970 (UTC)."""

    def unixtimestamp(value: Any) -> Decimal:
        moment = to_datetime(value)
        assert moment is not None  # blank arguments propagate: the function never sees one
        delta = moment - EPOCH
        return Decimal(delta.days * 86400 + delta.seconds)

    registry.register(
        "UNIXTIMESTAMP",
        unixtimestamp,
        min_arguments=1,
        max_arguments=1,
        check=_temporal_check("UNIXTIMESTAMP", (kinds.DATE, kinds.DATETIME), kinds.NUMBER),
        signature="UNIXTIMESTAMP(date_or_datetime)",
        description="Seconds since 1970-01-01 00:00:00 UTC",
    )

    @registry.function(
        "FROMUNIXTIME",
        args=["number"],
        returns="datetime",
        description="The date/time for a number of seconds since 1970 (UTC)",
    )
    def fromunixtime(seconds: Decimal) -> dt.datetime:
        whole = int(seconds.to_integral_value(rounding=decimal.ROUND_FLOOR))
        if abs(whole) > 253_402_300_799:
            raise FormulaRuntimeError("FROMUNIXTIME value is out of range")
        return EPOCH + dt.timedelta(seconds=whole)

"""How screens write times, dates and matches: small pure functions, used as Jinja
filters (registered by trellis.views.shell) and tested on their own.

Times are relative ("5 min ago") for a week, then dates: the user's time zone is not
known yet, and a relative time is right in every zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from markupsafe import Markup, escape


def time_ago(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 hours ago``, ``2 days ago``, then the date."""
    now = now or dt.datetime.now(dt.UTC)
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"{hours} hour{'' if hours == 1 else 's'} ago"
    if seconds < 7 * 86400:
        days = int(seconds // 86400)
        return f"{days} day{'' if days == 1 else 's'} ago"
    return day(value.astimezone(dt.UTC).date(), today=now.date())


def timestamp(value: dt.datetime) -> str:
    """The moment in full, in UTC (``2026-03-12 14:05 UTC``), for a tooltip."""
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def today() -> dt.date:
    """Today's date in UTC, the zone the server knows."""
    return dt.datetime.now(dt.UTC).date()


# English month abbreviations, as the screens' other words are English. Looked up rather
# than formatted with ``%b``: strftime went through the C locale on every call and was a
# sixth of a list page's table body (benchmarks/screens_bench.py, a date column).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day(value: dt.date, today: dt.date | None = None) -> str:
    """``12 Mar`` in the current year, ``12 Mar 2025`` otherwise."""
    today = today or dt.datetime.now(dt.UTC).date()
    text = f"{value.day} {MONTHS[value.month - 1]}"
    return text if value.year == today.year else f"{text} {value.year}"


def due(value: str | None, today: dt.date | None = None) -> tuple[str, str]:
    """A due date (ISO text, as records carry it) as (words, tone): tone is ``overdue``,
    ``today``, ``soon`` or ``""``; no date is ``("No due date", "")``."""
    if not value:
        return "No due date", ""
    today = today or dt.datetime.now(dt.UTC).date()
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        return value, ""
    if date < today:
        return f"Overdue · {day(date, today)}", "overdue"
    if date == today:
        return "Today", "today"
    if date == today + dt.timedelta(days=1):
        return "Tomorrow", "soon"
    return day(date, today), ""


def highlight(text: str, words: Iterable[str]) -> Markup:
    """``text`` escaped, with every case-insensitive occurrence of ``words`` in ``<mark>``."""
    wanted = sorted({word for word in words if word}, key=len, reverse=True)
    if not wanted:
        return Markup(escape(text))
    pattern = re.compile("|".join(re.escape(word) for word in wanted), re.IGNORECASE)
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup("<mark>{}</mark>").format(match.group(0)))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


# Compiled once: re.split with a pattern string looks it up in re's cache on every call,
# which the app header's avatar did on every page.
_NAME_SEPARATORS = re.compile(r"[._\-+]+")


def initials(email: str | None) -> str:
    """Up to two letters for an avatar, from the email's local part (``ada.lovelace`` →
    ``AL``)."""
    local = (email or "?").split("@", 1)[0]
    pieces = [piece for piece in _NAME_SEPARATORS.split(local) if piece]
    letters = "".join(piece[0] for piece in pieces[:2]) or local[:1]
    return letters.upper() or "?"

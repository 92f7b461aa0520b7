"""How screens write times, due dates, matches and initials."""

from __future__ import annotations

import datetime as dt

from trellis.views.display import day, due, highlight, initials, time_ago, timestamp

NOW = dt.datetime(2026, 3, 12, 15, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def test_times_are_relative_for_a_week_then_dates() -> None:
    before = [
        (dt.timedelta(seconds=20), "just now"),
        (dt.timedelta(minutes=5), "5 min ago"),
        (dt.timedelta(hours=1), "1 hour ago"),
        (dt.timedelta(hours=23, minutes=59), "23 hours ago"),
        (dt.timedelta(days=1), "1 day ago"),
        (dt.timedelta(days=6), "6 days ago"),
        (dt.timedelta(days=7), "5 Mar"),
        (dt.timedelta(days=400), "5 Feb 2025"),
    ]
    assert [time_ago(NOW - delta, NOW) for delta, _ in before] == [words for _, words in before]


def test_the_full_moment_is_in_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert timestamp(dt.datetime(2026, 3, 12, 16, 5, tzinfo=paris)) == "2026-03-12 15:05 UTC"


def test_due_dates_say_how_soon() -> None:
    assert due("2026-03-11", TODAY) == ("Overdue · 11 Mar", "overdue")
    assert due("2025-12-31", TODAY) == ("Overdue · 31 Dec 2025", "overdue")
    assert due("2026-03-12", TODAY) == ("Today", "today")
    assert due("2026-03-13", TODAY) == ("Tomorrow", "soon")
    assert due("2026-04-01", TODAY) == ("1 Apr", "")
    assert due(None, TODAY) == ("No due date", "")
    assert due("not a date", TODAY) == ("not a date", "")
    assert day(dt.date(2027, 1, 2), TODAY) == "2 Jan 2027"


def test_every_month_has_its_english_abbreviation() -> None:
    shown = [day(dt.date(TODAY.year, month, 28), TODAY) for month in range(1, 13)]
    assert " ".join(text.removeprefix("28 ") for text in shown) == (
        "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
    )


def test_matches_are_marked_and_everything_else_escaped() -> None:
    assert str(highlight("Acme & <Sons>", ["acme", "<s"])) == (
        "<mark>Acme</mark> &amp; <mark>&lt;S</mark>ons&gt;"
    )
    assert str(highlight("Globex", [])) == "Globex"
    # The longer word wins where two overlap.
    assert str(highlight("Acmeco", ["acme", "acmeco"])) == "<mark>Acmeco</mark>"


def test_initials_come_from_the_email() -> None:
    assert initials("ada.lovelace@example.com") == "AL"
    assert initials("grace@example.com") == "G"
    assert initials(None) == "?"

"""Save-time checks of scheduled and manual triggers and of ``wait`` actions.

They run with the formula checks of :func:`trellis.metadata.formula_checks.check_formulas`,
so a bad cron expression, an unknown time zone, a filter that cannot run in SQL or a
wait on a field that holds no date is refused with the automation, field by field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from trellis.automation.actions import fail
from trellis.automation.schedule import ScheduleError, next_tick, time_zone
from trellis.automation.waits import interval
from trellis.metadata.acting_user import refuse_acting_user
from trellis.metadata.compiled import ObjectSchema

Check = Callable[[], Any]
RECORD_TRIGGERS = frozenset({"created", "updated", "created_or_updated", "deleted"})
SCHEDULE_ONLY = ("schedule", "filter")


def trigger_checks(
    compiler: Any, obj: ObjectSchema, automation: dict[str, Any], place: str
) -> Iterable[tuple[str, Check]]:
    """Checks of the trigger's own settings (``compiler``: a FormulaCompiler)."""
    trigger = automation["trigger"]
    if "timezone" in automation:
        yield f"{place}.timezone", lambda: _schedule(lambda: time_zone(automation["timezone"]))
    if trigger != "scheduled":
        for key in SCHEDULE_ONLY:
            if key in automation:
                yield f"{place}.{key}", fail(f"{key} applies to scheduled automations only.")
    if trigger in RECORD_TRIGGERS:
        return
    if automation["timing"] != "after_save":
        yield (
            f"{place}.timing",
            fail(f"A {trigger} automation runs after save; set timing to after_save."),
        )
    if automation.get("only_when_changed_to_meet"):
        yield (
            f"{place}.only_when_changed_to_meet",
            fail("only_when_changed_to_meet applies to record triggers (created, updated)."),
        )
    if trigger == "manual":
        return
    if automation.get("condition"):
        yield (
            f"{place}.condition",
            fail(
                "A scheduled automation selects its records with "
                "filter; condition is for the other triggers."
            ),
        )
    if "schedule" not in automation:
        yield (
            f"{place}.schedule",
            fail(
                'A scheduled automation needs a schedule: a cron expression such as "0 9 * * 1-5".'
            ),
        )
    else:
        yield (
            f"{place}.schedule",
            lambda: _schedule(
                lambda: next_tick(automation["schedule"], "UTC", dt.datetime.now(dt.UTC))
            ),
        )
    if automation.get("filter"):
        # Compiled to SQL as the tick will: a filter that cannot run there, or that reads
        # the acting user (a tick has none), is refused now.
        yield (
            f"{place}.filter",
            lambda: refuse_acting_user(
                compiler.compile(
                    obj, automation["filter"], expected_type="checkbox", allow_prior=False
                ).to_sql_condition(compiler.sql(obj, uuid.UUID(int=0))),
                "A scheduled automation's filter",
            ),
        )


def wait_checks(
    obj: ObjectSchema, automation: dict[str, Any], place: str
) -> Iterable[tuple[str, Check]]:
    """Checks of every ``wait`` action of the automation."""
    for index, action in enumerate(automation["actions"]):
        if action["type"] != "wait":
            continue
        where = f"{place}.actions.{index}"
        if ("duration" in action) == ("until" in action):
            yield (
                where,
                fail(
                    "A wait needs either a duration or until (a date or date/time field), not both."
                ),
            )
            continue
        if "duration" in action and interval(action["duration"]).total_seconds() <= 0:
            yield f"{where}.duration", fail("A wait's duration must be longer than zero.")
        if "offset" in action and "until" not in action:
            yield f"{where}.offset", fail("offset applies to a wait until a field.")
        if "until" in action:
            field = obj.find(action["until"])
            kind = field.type.formula_type(field.definition) if field is not None else None
            if kind not in {"date", "datetime"}:
                yield (
                    f"{where}.until",
                    fail(
                        f"Wait until a date or date/time field of "
                        f"{obj.api_name}; {action['until']!r} is not one."
                    ),
                )
        if action.get("recheck_condition") and not (
            automation.get("condition") or automation.get("filter")
        ):
            yield (
                f"{where}.recheck_condition",
                fail("There is no condition to recheck: the automation has none."),
            )


def _schedule(check: Check) -> None:
    try:
        check()
    except ScheduleError as error:
        fail(str(error))()

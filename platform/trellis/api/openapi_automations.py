"""The OpenAPI description of the automation endpoints: ``/meta/automations`` (the
definitions, kept with their object's metadata) and ``/automation-runs`` (the run log).

The automation schema is the one the metadata meta-schema checks when an automation
is saved, so the document and the validation cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from trellis.api.automation_runs import STATUSES
from trellis.api.openapi_schema import (
    API_NAME,
    INTEGER,
    MOMENT,
    OPTIONAL_MOMENT,
    OPTIONAL_TEXT,
    REMOVE,
    TEXT,
    UUID,
    WRITE,
    array,
    data_of,
    inline_refs,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.metadata.documents import object_meta_schema

AUTOMATION_TAG = "Automation"


def openapi_schemas() -> dict[str, Any]:
    """Automations as read, created, replaced and saved, and their runs."""
    meta = object_meta_schema()
    automation = inline_refs(meta["$defs"]["automation"], meta["$defs"])
    properties = {
        "object": {**API_NAME, "description": "The object whose records trigger it."},
        **automation["properties"],
    }
    required = ["object", *automation["required"]]
    warnings = array(
        TEXT,
        description=(
            "Loops through this automation that only its conditions end (loops that nothing "
            "ends are refused when saving)."
        ),
    )
    return {
        "Automation": shape(
            properties,
            required,
            description=(
                "An automation: what triggers it, when it runs (before the save, in the same "
                "transaction, or after it, on a worker) and its actions in order."
            ),
        ),
        "AutomationInput": shape(properties, required),
        "AutomationReplacement": shape(
            properties,
            automation["required"],
            description=("The whole automation; its object and api_name cannot change."),
        ),
        "SavedAutomation": shape({**properties, "warnings": warnings}, required),
        "AutomationRun": run_schema(),
    }


def run_schema() -> dict[str, Any]:
    """``AutomationRun``: one entry of the run log."""
    run = {
        "id": INTEGER,
        "automation": API_NAME,
        "record_id": {**UUID, "description": "The record whose change triggered the run."},
        "event_id": INTEGER,
        "trigger": TEXT,
        "status": {
            "enum": list(STATUSES),
            "description": (
                "queued → running → succeeded; a failing run is failed while it waits for its "
                "retry and dead after the last attempt (replay it); skipped when the recursion "
                "guard stopped it or its condition could not be evaluated."
            ),
        },
        "attempts": INTEGER,
        "actions_done": array(
            {"type": "integer", "minimum": 0},
            description=("Indexes of the actions that completed; a retry or replay skips them."),
        ),
        "error": OPTIONAL_TEXT,
        "created_at": MOMENT,
        "started_at": OPTIONAL_MOMENT,
        "finished_at": OPTIONAL_MOMENT,
        "duration_ms": {"type": ["integer", "null"], "description": "Of the last attempt."},
        "resume_at": {**OPTIONAL_MOMENT, "description": "When a waiting run continues."},
        "run_as": {
            **OPTIONAL_TEXT,
            "description": "Whose rights it ran with: `system`, or `user:<email>` (its owner).",
        },
    }
    return shape(
        run,
        [name for name in run if name not in {"resume_at", "run_as"}],
        description="One run of an after-save automation on one record change, with its log.",
    )


def openapi_paths() -> dict[str, dict[str, Any]]:
    """The automation definitions and the run log."""
    return {**definition_paths(), **run_paths()}


def definition_paths() -> dict[str, dict[str, Any]]:
    """``/meta/automations``: list, create, read, replace and delete automations."""
    name = parameter("api_name", "path", API_NAME, "The automation's api_name (any case).")
    tag = AUTOMATION_TAG
    return {
        "/meta/automations": {
            "get": operation(
                "listAutomations",
                "Every automation, in run order",
                tag,
                200,
                data_of(ref("Automation")),
            ),
            "post": operation(
                "createAutomation",
                "Add an automation to an object (a new metadata "
                "revision; formulas and templates are checked first)",
                tag,
                201,
                ref("SavedAutomation"),
                errors=WRITE,
                body=ref("AutomationInput"),
            ),
        },
        "/meta/automations/{api_name}": {
            "get": operation(
                "getAutomation",
                "An automation",
                tag,
                200,
                ref("Automation"),
                errors=(404,),
                parameters=[name],
            ),
            "put": operation(
                "replaceAutomation",
                "Replace an automation",
                tag,
                200,
                ref("SavedAutomation"),
                errors=WRITE,
                parameters=[name],
                body=ref("AutomationReplacement"),
            ),
            "delete": operation(
                "deleteAutomation",
                "Delete an automation (a new metadata revision; rolling back restores it)",
                tag,
                204,
                errors=(*REMOVE, 422),
                parameters=[name],
            ),
        },
    }


def run_filters() -> list[dict[str, Any]]:
    """The query parameters of the run log: by status, automation, record, trigger,
    creation or resume time, and paging."""
    moment = {"type": "string", "format": "date-time"}
    return [
        parameter("status", "query", {"enum": list(STATUSES)}, "Runs in this state."),
        parameter("automation", "query", TEXT, "Runs of this automation (its api_name)."),
        parameter("record_id", "query", UUID, "Runs triggered by this record."),
        parameter("trigger", "query", TEXT, "created, updated, deleted, …"),
        parameter("resume_at__gte", "query", moment, "Waiting runs that continue from then."),
        parameter("resume_at__lte", "query", moment, "Waiting runs that continue until then."),
        parameter("created_at__gte", "query", moment, "Runs created from then."),
        parameter("created_at__lte", "query", moment, "Runs created until then."),
        parameter(
            "cursor",
            "query",
            {"type": "string", "pattern": "^[0-9]+$"},
            "next_cursor of the previous page.",
        ),
        parameter(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
            "Runs per page.",
        ),
    ]


def run_paths() -> dict[str, dict[str, Any]]:
    """``/automation-runs``: the run log, one run, and replaying one."""
    run_id = parameter(
        "run_id", "path", {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, "The run's id."
    )
    filters = run_filters()
    page = shape(
        {
            "data": {"type": "array", "items": ref("AutomationRun")},
            "next_cursor": {**OPTIONAL_TEXT, "description": "Null on the last page."},
        },
        ["data", "next_cursor"],
    )
    replayed = shape({"id": {"type": "integer"}, "status": {"const": "queued"}}, ["id", "status"])
    tag = AUTOMATION_TAG
    return {
        "/automation-runs": {
            "get": operation(
                "listAutomationRuns",
                "The run log, newest first",
                tag,
                200,
                page,
                errors=(400, 403),
                parameters=filters,
            )
        },
        "/automation-runs/{run_id}": {
            "get": operation(
                "getAutomationRun",
                "One run",
                tag,
                200,
                ref("AutomationRun"),
                errors=(403, 404),
                parameters=[run_id],
            )
        },
        "/automation-runs/{run_id}/replay": {
            "post": operation(
                "replayAutomationRun",
                "Queue a failed or dead run again; the actions it already did are not repeated",
                tag,
                202,
                replayed,
                errors=(403, 404, 409),
                parameters=[run_id],
            )
        },
    }

"""``/api/v1/automations/<api_name>/run``: start a manual automation on chosen records."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.api.automation_runs import STATUSES
from trellis.api.context import metadata_service, nudge_worker, tenant_transaction
from trellis.api.openapi_schema import (
    API_NAME,
    INTEGER,
    OPTIONAL_TEXT,
    UUID,
    WRITE,
    array,
    data_of,
    operation,
    parameter,
    shape,
)
from trellis.api.request import json_body
from trellis.automation.manual import MAX_RECORDS, record_ids, start_runs
from trellis.errors import BadRequest

IDEMPOTENCY_KEY = "Idempotency-Key"


def run_automation(api_name: str) -> ResponseReturnValue:
    """Run a manual automation on up to 200 records; the runs are queued (202)."""
    body = json_body()
    chosen = record_ids(body.get("record_ids"))
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is not None and not (1 <= len(key) <= 200 and key.isprintable()):
        raise BadRequest(
            f"{IDEMPOTENCY_KEY} is 1–200 printable characters.",
            fields={IDEMPOTENCY_KEY: "Invalid."},
        )
    with tenant_transaction() as (connection, actor):
        actor.require_scope("write")
        runs = start_runs(
            connection,
            actor,
            metadata_service(connection, actor).schema(),
            api_name,
            chosen,
            key or uuid.uuid4().hex,
        )
    # The runs are committed: a lost hand-off is re-sent by the outbox sweep.
    for run in runs:
        if run["status"] == "queued":
            nudge_worker("trellis.run_automation", str(actor.tenant_id), run["id"])
    return jsonify({"data": runs}), 202


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule(
        "/automations/<api_name>/run", view_func=run_automation, methods=["POST"]
    )


def openapi_paths() -> dict[str, dict[str, Any]]:

    started = shape(
        {
            "id": INTEGER,
            "record_id": UUID,
            "status": {"enum": list(STATUSES)},
            "error": OPTIONAL_TEXT,
        },
        ["id", "record_id", "status", "error"],
    )
    body = shape({"record_ids": array(UUID, minItems=1, maxItems=MAX_RECORDS)}, ["record_ids"])
    key = parameter(
        IDEMPOTENCY_KEY,
        "header",
        {"type": "string", "minLength": 1, "maxLength": 200},
        "Repeating a request with the same key returns its runs, not new ones.",
    )
    return {
        "/automations/{api_name}/run": {
            "post": operation(
                "runAutomation",
                "Run a manual automation on chosen records (queued, or skipped "
                "where the condition does not hold)",
                "Automation",
                202,
                data_of(started),
                errors=WRITE,
                parameters=[
                    parameter("api_name", "path", API_NAME, "The automation's api_name."),
                    key,
                ],
                body=body,
            )
        }
    }

"""The OpenAPI description of ``/privacy/export`` and ``/privacy/erase``
(:mod:`trellis.api.privacy`)."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    BOOLEAN,
    INTEGER,
    MOMENT,
    OPTIONAL_MOMENT,
    OPTIONAL_TEXT,
    OPTIONAL_UUID,
    TEXT,
    UUID,
    array,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.records.privacy.erase import ANONYMISE, MODES

PRIVACY_TAG = "Privacy"
_EMAIL = {"type": "string", "minLength": 3, "maxLength": 254}
_MATCHED_BY = array(
    TEXT, description="Why the record is the person's: subject, email:<Field>, lookup:<Field>."
)


def openapi_schemas() -> dict[str, Any]:
    """The subject, an exported record, the export, and an erasure (its request and its
    report, which the preview of a request without ``confirm`` shares).

    Long by nature: a declarative table of schemas."""
    subject = {"email": OPTIONAL_TEXT, "object": OPTIONAL_TEXT, "record": OPTIONAL_UUID}
    record = {
        "object": TEXT,
        "id": UUID,
        "matched_by": _MATCHED_BY,
        "version": INTEGER,
        "owner_id": OPTIONAL_UUID,
        "created_at": MOMENT,
        "created_by": OPTIONAL_UUID,
        "updated_at": MOMENT,
        "updated_by": OPTIONAL_UUID,
        "deleted_at": OPTIONAL_MOMENT,
        "values": {"type": "object", "description": "Every stored value, by field."},
        "history": array(ref("HistoryEntry")),
    }
    erased = {
        "object": TEXT,
        "id": UUID,
        "matched_by": _MATCHED_BY,
        "changes": {"type": "object", "description": "The new values (null: blanked)."},
        "deleted": BOOLEAN,
    }
    counts = dict.fromkeys(("records", "updated", "deleted", "history_rows", "events"), INTEGER)
    return {
        "PrivacySubject": shape(subject, subject),
        "PrivacyRecord": shape(record, record),
        "PrivacyExport": shape(
            {
                "subject": ref("PrivacySubject"),
                "addresses": array(TEXT),
                "exported_at": MOMENT,
                "count": INTEGER,
                "records": array(ref("PrivacyRecord")),
            },
            ["subject", "addresses", "exported_at", "count", "records"],
        ),
        "PrivacyErasure": shape(
            {
                "mode": {"enum": list(MODES)},
                "subject": ref("PrivacySubject"),
                "records": array(shape(erased, erased)),
                "counts": shape(counts, counts),
            },
            ["mode", "subject", "records", "counts"],
        ),
        "PrivacyErasureInput": shape(
            {
                "email": _EMAIL,
                "object": TEXT,
                "record": UUID,
                "mode": {"enum": list(MODES), "default": ANONYMISE},
                "confirm": {
                    **BOOLEAN,
                    "default": False,
                    "description": "Without true, nothing changes: a 400 carries the preview.",
                },
            },
        ),
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    """``/privacy/export`` and ``/privacy/erase`` (administrators)."""
    subject = [
        parameter("email", "query", _EMAIL, "The person's email address (any case)."),
        parameter("object", "query", TEXT, "With `record`: the object of the person's record."),
        parameter("record", "query", UUID, "With `object`: the person's record."),
    ]
    return {
        "/privacy/export": {
            "get": operation(
                "exportPersonalData",
                "Everything held about a person (administrators)",
                PRIVACY_TAG,
                200,
                ref("PrivacyExport"),
                errors=(400, 403, 404),
                parameters=subject,
            )
        },
        "/privacy/erase": {
            "post": operation(
                "erasePersonalData",
                "Anonymise or delete a person's data (administrators)",
                PRIVACY_TAG,
                200,
                ref("PrivacyErasure"),
                errors=(400, 403, 404, 409, 413, 415, 422),
                body=ref("PrivacyErasureInput"),
            )
        },
    }

"""The OpenAPI description of ``GET /search`` (:mod:`trellis.api.search`)."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    BOOLEAN,
    INTEGER,
    TEXT,
    UUID,
    array,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.api.search import MAX_PER_OBJECT
from trellis.records.global_search import CANDIDATES, PER_OBJECT
from trellis.records.search import MAX_QUERY_LENGTH

SEARCH_TAG = "Search"


def openapi_schemas() -> dict[str, Any]:
    """``SearchText`` (a value with the searched words' places), ``SearchGroup``."""
    text = {
        "text": TEXT,
        "html": {**TEXT, "description": "The text escaped, the searched words in <mark>."},
        "highlights": array(array(INTEGER, minItems=2, maxItems=2), description="[start, end)"),
    }
    match = shape({"field": TEXT, "label": TEXT, **text}, ["field", "label", *text])
    hit = shape(
        {
            "id": UUID,
            "name": {
                "oneOf": [ref("SearchText"), {"type": "null"}],
                "description": "null when you may not read the name field.",
            },
            "rank": {"type": "number"},
            "matches": array(ref("SearchMatch"), description="Other fields with the words."),
        },
        ["id", "name", "rank", "matches"],
    )
    capped = {
        **BOOLEAN,
        "description": f"Many matches: the records are the best of the first {CANDIDATES} "
        "or so found, more may hold the words; add a word to narrow the search.",
    }
    group = shape(
        {
            "object": TEXT,
            "label": TEXT,
            "more": BOOLEAN,
            "capped": capped,
            "records": array(ref("SearchHit")),
        },
        ["object", "label", "more", "capped", "records"],
    )
    return {
        "SearchText": shape(text, list(text)),
        "SearchMatch": match,
        "SearchHit": hit,
        "SearchGroup": group,
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    """``/search``: global search over the records and fields you may read."""
    parameters = [
        parameter(
            "q",
            "query",
            {**TEXT, "maxLength": MAX_QUERY_LENGTH},
            "Words; each must start a word in some text field of the record you may read.",
        ),
        parameter(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_OBJECT, "default": PER_OBJECT},
            "Records per object.",
        ),
    ]
    body = shape({"words": array(TEXT), "data": array(ref("SearchGroup"))}, ["words", "data"])
    found = operation(
        "search",
        "Records with the words, grouped by object, best first",
        SEARCH_TAG,
        200,
        body,
        errors=(400,),
        parameters=parameters,
    )
    return {"/search": {"get": found}}

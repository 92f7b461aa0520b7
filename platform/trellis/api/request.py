"""Reading API requests: JSON bodies only, well-formed, of the expected shape; row ids in
URLs within range."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request
from werkzeug.routing import IntegerConverter, Map

from trellis.errors import BadRequest, UnsupportedMediaType, ValidationError

# PostgreSQL stores neither NUL nor unpaired surrogates (which JSON's \ud800 escapes allow)
# in text or JSONB; refusing them here keeps them from failing deep inside a write.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A body can only hold such text through a \u0000 or \uD800-\uDFFF escape (a raw NUL byte
# also stands for UTF-16/32 bodies); without one the walk over every string is skipped.
MAY_BE_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00")


def json_body(expected: type = dict) -> Any:
    """The parsed JSON body, or a clear 4xx; never a half-parsed value."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'.")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}.", code="malformed_json") from None
    except RecursionError:
        raise BadRequest("The body is nested too deeply.", code="malformed_json") from None
    if not isinstance(body, expected):
        kind = "an object" if expected is dict else "an array"
        raise BadRequest(f"The body must be {kind}.", code="malformed_json")
    problems = unstorable_text(body) if MAY_BE_UNSTORABLE.search(raw) else None
    if problems:
        raise ValidationError("Some text cannot be stored.", fields=problems)
    return body


# ASCII digits only ("²".isdigit() is true), and few enough for int() to accept.


def refuse_unstorable_parameters() -> None:
    """A 400 for a query parameter holding a NUL character (``%00``), which no text column
    can be compared with; checked once for every API call."""
    for name, value in request.args.items(multi=True):
        if UNSTORABLE.search(name) or UNSTORABLE.search(value):
            raise BadRequest(
                "A query parameter has a NUL or invalid character.",
                fields={
                    "query" if UNSTORABLE.search(name) else name: "A NUL or invalid character."
                },
            )


def unstorable_text(body: Any) -> dict[str, str]:
    """Messages keyed by the dotted path (``records.0.Name``) of each string that has a NUL
    character or an unpaired surrogate, keys included."""
    problems: dict[str, str] = {}
    pending: list[tuple[str, Any]] = [("", body)]
    while pending:  # no recursion: the body may be nested nearly as deep as the parser allows
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                pending.append((f"{path}.{key}" if path else key, item))
                if UNSTORABLE.search(key):
                    problems[path or "body"] = "A property name has a NUL or invalid character."
        elif isinstance(value, list):
            pending.extend(
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
            )
        elif isinstance(value, str) and UNSTORABLE.search(value):
            problems[path or "body"] = (
                "Text cannot contain the NUL character."
                if "\x00" in value
                else "Text has invalid Unicode."
            )
    return problems


class RowIdConverter(IntegerConverter):
    """``<row_id:…>``: a positive bigint (run, delivery and revision numbers). A larger
    number matches no route, so it is a 404 like any unknown id rather than an overflow
    in PostgreSQL."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=2**63 - 1)

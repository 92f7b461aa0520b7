"""Reading API request bodies: JSON only, well-formed, of the expected shape."""
from __future__ import annotations

import json
from typing import Any

from flask import request

from trellis.errors import BadRequest, UnsupportedMediaType


def json_body(expected: type = dict) -> Any:
    """The parsed JSON body, or a clear 4xx; never a half-parsed value."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'.")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}.", code="malformed_json") from None
    if not isinstance(body, expected):
        kind = "an object" if expected is dict else "an array"
        raise BadRequest(f"The body must be {kind}.", code="malformed_json")
    return body

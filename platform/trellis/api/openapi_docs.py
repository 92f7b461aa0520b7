"""``/api/docs``: the interactive API documentation, Swagger UI from the installed
``swagger-ui-bundle`` package (no CDN), pointed at the tenant's OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path

import swagger_ui_bundle
from flask import (
    Blueprint,
    render_template,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue

from trellis.errors import NotFound

SWAGGER_UI = Path(str(swagger_ui_bundle.swagger_ui_path))
DOCS_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})


def docs_page() -> ResponseReturnValue:
    # Swagger UI renders OpenAPI 3.1 from version 5 on; the page adapts it for older ones.
    version = re.search(r"(\d+)\.\d+\.\d+$", SWAGGER_UI.name)
    return render_template(
        "api_docs.html",
        spec_url=url_for("api.openapi_document"),
        needs_openapi_30=version is not None and int(version.group(1)) < 5,
    )


def docs_asset(filename: str) -> ResponseReturnValue:
    if filename.removesuffix(".map") not in DOCS_ASSETS:
        raise NotFound(f"No documentation asset {filename!r}.")
    return send_from_directory(SWAGGER_UI, filename, max_age=3600)


def create_docs_blueprint() -> Blueprint:
    """``/api/docs``: interactive documentation, served entirely by this app (no CDN)."""
    blueprint = Blueprint("api_docs", __name__)
    blueprint.add_url_rule("/api/docs", view_func=docs_page, methods=["GET"])
    blueprint.add_url_rule(
        "/api/docs/static/<path:filename>", view_func=docs_asset, methods=["GET"]
    )
    return blueprint

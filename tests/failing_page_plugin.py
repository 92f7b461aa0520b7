"""A plugin with a page that always fails, to show what an unexpected error looks like."""

from __future__ import annotations

from flask import Blueprint

from trellis.hookspecs import hookimpl

SECRET_DETAIL = "the failing page's own detail, which no page may show"
blueprint = Blueprint("failing_page", __name__)


@blueprint.get("/test/fails")
def fails() -> str:
    raise RuntimeError(SECRET_DETAIL)


@hookimpl
def register_blueprints() -> list[Blueprint]:
    return [blueprint]

"""The built-in pages and API, mounted through the same hook third-party plugins use."""

from __future__ import annotations

from trellis.hookspecs import hookimpl


@hookimpl
def register_blueprints() -> list:
    from trellis.api import create_blueprint
    from trellis.api.openapi import create_docs_blueprint
    from trellis.views import health, ui

    return [health.blueprint, ui.blueprint, create_blueprint(), create_docs_blueprint()]

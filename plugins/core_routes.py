"""The built-in pages and API, mounted through the same hook third-party plugins use."""

from __future__ import annotations

from flask import Blueprint

from trellis.api.blueprint import create_blueprint
from trellis.api.openapi_docs import create_docs_blueprint
from trellis.hookspecs import hookimpl
from trellis.views import (
    account,
    board_screen,
    health,
    import_screen,
    invite_page,
    list_actions,
    list_mass,
    list_screen,
    objects,
    recent,
    record_forms,
    search,
    shell,
    ui,
)
from trellis.views.setup import routes as setup


@hookimpl
def register_blueprints() -> list[Blueprint]:
    return [
        health.blueprint,
        ui.blueprint,
        shell.blueprint,
        search.blueprint,
        recent.blueprint,
        objects.blueprint,
        record_forms.blueprint,
        list_screen.blueprint,
        board_screen.blueprint,
        list_actions.blueprint,
        import_screen.blueprint,
        list_mass.blueprint,
        account.blueprint,
        invite_page.blueprint,
        setup.blueprint,
        create_blueprint(),
        create_docs_blueprint(),
    ]

"""The REST API under ``/api/v1``: one blueprint, one module per resource."""
from __future__ import annotations

from flask import Blueprint


def create_blueprint() -> Blueprint:
    from trellis.api import me, meta, openapi, records, tokens
    from trellis.api import meta_packages

    blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
    me.register(blueprint)
    tokens.register(blueprint)
    meta.register(blueprint)
    meta_packages.register(blueprint)
    records.register(blueprint)
    openapi.register(blueprint)
    return blueprint

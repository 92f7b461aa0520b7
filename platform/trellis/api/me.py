"""``GET /api/v1/me``: the authenticated actor."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from trellis.identity.auth import require_actor


def me() -> ResponseReturnValue:
    return jsonify(require_actor().to_dict())


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/me", view_func=me, methods=["GET"])

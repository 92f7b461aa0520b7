"""The search page: ``GET /search?q=words`` finds records by name (trellis.records.search)
over the objects the user may read, grouped as the navigation orders them."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from trellis.records.search import search_names, search_words
from trellis.views.shell import navigation, screen

blueprint = Blueprint("search", __name__)


@blueprint.get("/search")
def search() -> ResponseReturnValue:
    text = request.args.get("q", "").strip()
    with screen() as current:
        words = search_words(text)
        groups = search_names(
            current.connection,
            current.access,
            current.schema,
            navigation(current.schema, current.access),
            words,
        )
    return render_template("search.html", query=text, words=words, groups=groups)

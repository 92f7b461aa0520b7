"""The search page and its type-ahead: ``GET /search?q=words`` finds records by the words
in any field the user may read (trellis.records.global_search), grouped by object, the
best match first; ``GET /search/suggest?q=`` is the same search as a small HTML
fragment of options for the shell's search box (shell_search.js). Without JavaScript the
box is a plain GET form to the page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from trellis.records.global_search import query_words, search_records, suggest
from trellis.records.search_snippets import Snippet, as_html
from trellis.views.shell import navigation, screen

blueprint = Blueprint("search", __name__)


@blueprint.app_template_filter("marked")
def marked(found: Snippet) -> Markup:
    """A snippet as HTML: its text escaped, the searched words in ``<mark>``."""
    return Markup(as_html(found))  # as_html escapes every piece of text


@blueprint.get("/search")
def search() -> ResponseReturnValue:
    text = request.args.get("q", "").strip()
    with screen() as current:
        words = query_words(text)
        groups = search_records(
            current.connection,
            current.access,
            current.schema,
            navigation(current.schema, current.access),
            words,
        )
    return render_template("search.html", query=text, words=words, groups=groups)


@blueprint.get("/search/suggest")
def suggestions() -> ResponseReturnValue:
    """The best few records for what has been typed so far, as ``<li role="option">``
    items (none for fewer than two characters: too many records start with one)."""
    text = request.args.get("q", "").strip()
    with screen() as current:
        words = query_words(text) if len(text) >= 2 else []
        found = suggest(
            current.connection,
            current.access,
            current.schema,
            navigation(current.schema, current.access),
            words,
        )
    return render_template("components/search_suggestions.html", query=text, found=found)

"""``GET /api/v1/search?q=words``: global search (trellis.records.global_search), the same
service as the search page: records with every word in fields the caller may read,
grouped by object, best first, with the words' places in the name and the matching
fields, as text with offsets and as escaped HTML."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.access.gate import Access
from trellis.api.context import tenant_transaction
from trellis.records.global_search import PER_OBJECT, Found, FoundGroup, query_words, search_records
from trellis.records.parameters import whole_number
from trellis.records.search_snippets import Snippet, as_html
from trellis.state import get_state

MAX_PER_OBJECT = 50


def snippet_json(found: Snippet) -> dict[str, Any]:
    return {
        "text": found.text,
        "html": as_html(found),
        "highlights": [list(m) for m in found.marks],
    }


def _hit_json(hit: Found) -> dict[str, Any]:
    return {
        "id": str(hit.id),
        "name": None if hit.name is None else snippet_json(hit.name),
        "rank": hit.rank,
        "matches": [
            {"field": match.api_name, "label": match.label, **snippet_json(match.snippet)}
            for match in hit.matches
        ],
    }


def group_json(group: FoundGroup) -> dict[str, Any]:
    return {
        "object": group.object.api_name,
        "label": str(group.object.definition.get("plural_label") or group.object.api_name),
        "more": group.more,
        "capped": group.capped,
        "records": [_hit_json(hit) for hit in group.hits],
    }


def search() -> ResponseReturnValue:
    words = query_words(request.args.get("q", "").strip())
    per_object = whole_number(
        request.args.get("limit", str(PER_OBJECT)), "limit", 1, MAX_PER_OBJECT
    )
    with tenant_transaction() as (connection, actor):
        schema = get_state().metadata_cache.get(connection, actor.tenant_id)
        groups = search_records(
            connection,
            Access.of(actor, schema),
            schema,
            schema.objects.values(),
            words,
            per_object,
        )
    return jsonify({"words": words, "data": [group_json(group) for group in groups]})


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/search", view_func=search, methods=["GET"])

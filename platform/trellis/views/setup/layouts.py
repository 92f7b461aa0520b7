"""Setup → Build → Page layouts: each object's record page layout, arranged in the
layout editor (layout_editor.js) and saved through the metadata service, as the API's
``PUT /api/v1/meta/objects/<Object>`` saves it: checked, versioned and audited alike.

The editor is one POST form whose ``layout`` field holds the draft as JSON (the script
keeps it in step with what is arranged; without the script it is edited as text). A
draft the checks refuse is shown again with its problems placed on what they are about,
answered 422, and nothing is saved. The preview shows a real record in the draft.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import BadRequest, Conflict, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.service import MetadataService
from trellis.state import get_state
from trellis.views.setup.layout_draft import (
    Problem,
    editable_shape,
    parse_draft,
    problems,
    shown_json,
    starting_draft,
    stored_mark,
    with_draft,
)
from trellis.views.setup.layout_palette import palette_fields, placed_names, related_candidates
from trellis.views.setup.layout_preview import Preview, blank_preview, build_preview
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen, plural_label

RIGHT = "manage_metadata"
FRAGMENT_HEADER = "X-Trellis-Fragment"
OVERTAKEN = (
    "Someone else saved this layout after you opened it. Saving again replaces their "
    "change with yours; open the page afresh to start from theirs."
)
SECTIONS: tuple[Section, ...] = (
    Section(
        "layouts",
        "Page layouts",
        "setup.layouts",
        RIGHT,
        "Build",
        "Arrange each object's record page: tabs, sections, fields and related lists.",
    ),
)


def _objects(current: Screen) -> list[ObjectSchema]:
    return sorted(current.schema.objects.values(), key=lambda obj: plural_label(obj).lower())


@blueprint.get("/layouts")
def layouts() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        rows = []
        for obj in _objects(current):
            draft = starting_draft(current.schema, obj)
            tabs = draft.get("tabs", [])
            rows.append(
                {
                    "obj": obj,
                    "label": plural_label(obj),
                    "defined": isinstance(obj.definition.get("layout"), dict),
                    "tabs": len(tabs),
                    "sections": sum(len(tab.get("sections", [])) for tab in tabs),
                    "related": sum(len(tab.get("related_lists", [])) for tab in tabs),
                }
            )
        return render_template("setup/layouts/index.html", rows=rows)


@blueprint.get("/layouts/<api_name>")
def layout_editor(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        draft = starting_draft(current.schema, obj)
        return _editor(current, obj, draft, shown_json(draft))


@blueprint.post("/layouts/<api_name>")
def save_layout(api_name: str) -> ResponseReturnValue:
    text = request.form.get("layout", "")
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        draft, wrong = parse_draft(text)
        if wrong is not None:
            return _editor(current, obj, None, text, [Problem(wrong, "The layout")], status=422)
        if request.form.get("base") != stored_mark(obj):
            overtaken = Problem(OVERTAKEN, "The layout")
            return _editor(current, obj, draft, text, [overtaken], status=409)
        message = request.form.get("message", "").strip()[:200]
        service = MetadataService(current.connection, current.actor, get_state().metadata_cache)
        try:
            with current.connection.begin_nested():  # a refused save leaves nothing behind
                service.replace_object(
                    obj.api_name,
                    with_draft(obj, draft),
                    message=message or f"Change the page layout of {obj.api_name}",
                )
        except (ValidationError, BadRequest, Conflict) as error:
            found = problems(error.fields, draft, error.message)
            return _editor(current, obj, draft, text, found, status=422)
    flash(f"Saved the page layout of {plural_label(obj)}.")
    return redirect(url_for("setup.layout_editor", api_name=obj.api_name), 303)


@blueprint.route("/layouts/<api_name>/reset", methods=["GET", "POST"])
def reset_layout(api_name: str) -> ResponseReturnValue:
    """Give the object back its generated layout (asking first)."""
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        if request.method == "GET" or not isinstance(obj.definition.get("layout"), dict):
            status = 200 if request.method == "GET" else 409
            page = render_template("setup/layouts/reset.html", obj=obj, plural=plural_label(obj))
            return page, status
        definition = {key: value for key, value in obj.definition.items() if key != "layout"}
        service = MetadataService(current.connection, current.actor, get_state().metadata_cache)
        service.replace_object(
            obj.api_name, definition, message=f"Use the generated page layout of {obj.api_name}"
        )
    flash(f"{plural_label(obj)} use the generated page layout again.")
    return redirect(url_for("setup.layout_editor", api_name=obj.api_name), 303)


@blueprint.post("/layouts/<api_name>/preview")
def preview_layout(api_name: str) -> ResponseReturnValue:
    """The preview panel (the fragment the script asks for), or without the script the
    editor with the preview filled in."""
    fragment = request.headers.get(FRAGMENT_HEADER) == "preview"
    form = request.form
    text = form.get("layout", "")
    with setup_screen(RIGHT, with_shell=not fragment) as current:
        obj = current.schema.object(api_name)
        draft, wrong = parse_draft(text)
        record_id, tab_name = form.get("record", ""), form.get("tab", "")
        if wrong is not None:
            preview = build_preview(current, obj, None, record_id, tab_name)
            preview.problems = [Problem(wrong, "The layout")]
        else:
            preview = build_preview(current, obj, draft, record_id, tab_name)
        if fragment:
            return render_template("setup/layouts/preview.html", preview=preview, obj=obj)
        return _editor(current, obj, draft, text, preview=preview)


def _editor(
    current: Screen,
    obj: ObjectSchema,
    draft: Any,
    text: str,
    found: list[Problem] | None = None,
    *,
    preview: Preview | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The editor page on ``draft`` (None: text that is no layout), with the problems of
    a refused save and the preview, if any."""
    fields = palette_fields(obj)
    editable = draft is not None and editable_shape(draft)
    placed = placed_names(draft) if editable else set()
    if preview is None:
        preview = blank_preview(current, obj)
    context = {
        "obj": obj,
        "label": str(obj.definition.get("label") or obj.api_name),
        "plural": plural_label(obj),
        "defined": isinstance(obj.definition.get("layout"), dict),
        "base": stored_mark(obj),
        "draft": draft if editable else None,
        "text": text,
        "labels": {field["name"].lower(): field["label"] for field in fields},
        "unplaced": [field for field in fields if field["name"].lower() not in placed],
        "problems": found or [],
        "preview": preview,
        "editor_data": {
            "fields": fields,
            "related": related_candidates(current.schema, obj),
            "problems": [problem.to_json() for problem in found or []],
            "editable": editable,
        },
    }
    return render_template("setup/layouts/editor.html", **context), status

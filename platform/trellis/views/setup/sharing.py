"""Setup → Sharing: each object's org-wide default (who reads and edits a record besides
its owner and those above), the parent a controlled-by-parent object follows, and its
sharing rules. Saved through the same service as ``PUT /api/v1/meta/sharing-rules/...``:
one metadata revision of the object, which queues the recomputation of its shares."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.access.sharing_settings import replace_sharing_settings
from trellis.errors import TrellisError
from trellis.metadata.compiled import ObjectSchema
from trellis.views.setup.access_common import attempt, field_messages, metadata, objects_by_label
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = (
    Section(
        "sharing",
        "Sharing",
        "setup.sharing",
        "manage_users",
        "Access",
        "Each object's default record access and the rules that share records further.",
    ),
)
MODELS = (
    ("private", "Private", "Only the owner and the roles above them."),
    ("read", "Public read only", "Everyone reads; the owner and those above edit."),
    ("read_write", "Public read and write", "Everyone reads and edits."),
    (
        "controlled_by_parent",
        "Controlled by parent",
        "As the record its parent lookup points at.",
    ),
)
MODEL_LABELS = {key: label for key, label, _ in MODELS}


def model_of(obj: ObjectSchema) -> str:
    return str(obj.definition.get("sharing_model", "read_write"))


def parent_choices(obj: ObjectSchema) -> list[Any]:
    """The lookups a controlled-by-parent object may follow (the service checks that
    the chosen one is required and points elsewhere)."""
    return [field for field in obj.fields.values() if field.type.references_records]


@blueprint.get("/sharing")
def sharing() -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return render_template(
            "setup/access/sharing.html",
            objects=objects_by_label(current.schema),
            model_of=model_of,
            model_labels=MODEL_LABELS,
        )


def render_object(
    current: Screen,
    obj: ObjectSchema,
    form: dict[str, Any] | None = None,
    error: TrellisError | None = None,
) -> ResponseReturnValue:
    shown = form or {
        "sharing_model": model_of(obj),
        "sharing_parent": obj.definition.get("sharing_parent"),
    }
    page = render_template(
        "setup/access/sharing_object.html",
        obj=obj,
        form=shown,
        models=MODELS,
        parents=parent_choices(obj),
        rules=obj.definition.get("sharing_rules", []),
        error=error,
        errors=field_messages(error),
    )
    return page, 422 if error else 200


@blueprint.get("/sharing/<api_name>")
def sharing_object(api_name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return render_object(current, current.schema.object(api_name))


@blueprint.post("/sharing/<api_name>")
def save_sharing_model(api_name: str) -> ResponseReturnValue:
    model = request.form.get("sharing_model", "")
    form = {
        "sharing_model": model,
        # Only a controlled-by-parent object names its parent.
        "sharing_parent": (request.form.get("sharing_parent") or None)
        if model == "controlled_by_parent"
        else None,
    }
    with setup_screen("manage_users") as current:
        obj = current.schema.object(api_name)
        _, error = attempt(
            current,
            lambda: replace_sharing_settings(metadata(current), obj.api_name, form),
        )
        if error is not None:
            return render_object(current, obj, form, error)
    label = MODEL_LABELS.get(model, model)
    flash(f"{obj.definition.get('label')} records are now {label.lower()}; shares recompute.")
    return redirect(url_for("setup.sharing_object", api_name=obj.api_name), 303)

"""Saving a changed field, with the confirmation a lossy change needs.

A type change, or a change the metadata service refuses as data loss (values that would
not fit: a removed picklist value in use, a shorter length), is first tried in a
savepoint and rolled back, so everything else about it is validated; the admin then
sees how many records hold a value and which values would be removed, and confirms.
The confirmed change is saved with ``force``, as ``PATCH ...?force=true`` saves it; if
more values would be removed by then than the admin was shown, they are asked again.
"""

from __future__ import annotations

from typing import Any

from trellis.errors import ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.state import get_state
from trellis.views.setup.changes import DryRun, metadata_service, savepoint
from trellis.views.setup.field_impact import Impact, change_impact
from trellis.views.shell import Screen


def _definition(obj: ObjectSchema, field: dict[str, Any]) -> dict[str, Any]:
    name = field["api_name"]
    fields = [field if f["api_name"] == name else f for f in obj.definition["fields"]]
    return {**obj.definition, "fields": fields}


def _impact(current: Screen, obj: ObjectSchema, field: dict[str, Any]) -> Impact:
    registry = get_state().metadata_cache.registry
    return change_impact(current.connection, current.actor.tenant_id, obj.id, field, registry)


def _only_data_loss(error: ValidationError, name: str) -> bool:
    """Refused only because stored values would not fit (which ``force`` removes); a
    duplicate under a new ``unique`` cannot be forced."""
    return error.code == "data_loss" and set(error.fields) == {f"fields.{name}"}


def save_field(
    current: Screen,
    obj: ObjectSchema,
    field: dict[str, Any],
    *,
    type_changed: bool,
    confirmed_misfits: int | None,
) -> Impact | None:
    """Save ``field`` (its whole new definition); or, when the change needs the admin's
    confirmation first (``confirmed_misfits`` is None, or fewer values than would now be
    removed), change nothing and return what it would do."""
    service = metadata_service(current)
    message = f"Change {obj.api_name}.{field['api_name']}"
    if confirmed_misfits is not None:
        impact = _impact(current, obj, field)
        if impact.misfits > confirmed_misfits:
            return impact
        with savepoint(current):
            service.replace_object(
                obj.api_name, _definition(obj, field), force=True, message=message
            )
        return None
    try:
        with savepoint(current):
            service.replace_object(obj.api_name, _definition(obj, field), message=message)
            if type_changed:
                raise DryRun()
    except DryRun:
        return _impact(current, obj, field)
    except ValidationError as error:
        if _only_data_loss(error, field["api_name"]):
            return _impact(current, obj, field)
        raise
    return None

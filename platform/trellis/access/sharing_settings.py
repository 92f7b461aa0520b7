"""An object's sharing settings (its org-wide default, the parent it takes access from
and its sharing rules), changed as one metadata revision of the object: what
``PUT /api/v1/meta/sharing-rules/<Object>`` and the Setup sharing screen both save, so
validation, the revision and the recomputation it queues are the same for each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.service import MetadataService

SHARING_KEYS = ("sharing_model", "sharing_parent", "sharing_rules")


def replace_sharing_settings(
    service: MetadataService, api_name: str, changes: Mapping[str, Any]
) -> ObjectSchema:
    """Set the sharing settings ``changes`` names (a None value clears one) on the
    object, keeping the rest of its definition; the object as saved."""
    current = service.get_object(api_name)
    definition = {k: v for k, v in current.definition.items() if k not in SHARING_KEYS}
    kept = {k: current.definition[k] for k in SHARING_KEYS if k in current.definition}
    kept.update(changes)
    definition.update({k: v for k, v in kept.items() if v is not None})
    return service.replace_object(
        current.api_name, definition, message=f"Sharing of {current.api_name}"
    )

"""What a rollback will change, before it is made: the rollback itself, run through the
same service as ``POST /api/v1/meta/revisions/<n>/rollback`` in a savepoint that is then
undone, so the preview is exactly what confirming does."""

from __future__ import annotations

from trellis.access.packages import all_or_nothing
from trellis.errors import ValidationError
from trellis.metadata.service import MetadataService
from trellis.views.setup.metadata_diff import DocumentDiff, revision_documents


def rollback_preview(service: MetadataService, number: int) -> list[DocumentDiff] | None:
    """The documents a rollback to revision ``number`` changes and how; None when nothing
    changed after it (it is the current state)."""
    service.revision(number)  # a 404 for a revision that is not there
    try:
        with all_or_nothing(service, dry_run=True):
            made = service.rollback(number)
            changes = service.revision(made).changes
    except ValidationError:
        # The service's refusal of a rollback with nothing to undo.
        return None
    return revision_documents(changes)

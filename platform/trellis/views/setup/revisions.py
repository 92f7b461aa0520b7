"""Setup's metadata history: the revisions, newest first and paged; one revision's
changes, readable; and a rollback to it, confirmed with what it will change. Everything
goes through :class:`MetadataService`, as ``/api/v1/meta/revisions`` does, so a
rollback is recorded as a revision and audited like the API's."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import ValidationError
from trellis.metadata.service import MetadataService
from trellis.outbox.worker_nudges import schedule_index_build
from trellis.state import get_state
from trellis.views.setup.metadata_diff import changed_names, people, revision_documents
from trellis.views.setup.metadata_rollback import rollback_preview
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

RIGHT = "manage_metadata"
PAGE_SIZE = 50

SECTIONS: tuple[Section, ...] = (
    Section(
        "metadata-history",
        "Metadata history",
        "setup.revisions",
        RIGHT,
        "Metadata",
        "Every change to objects, fields and access, who made it, and a rollback to any point.",
    ),
)


def _service(current: Screen) -> MetadataService:
    return MetadataService(current.connection, current.actor, get_state().metadata_cache, RIGHT)


def _before() -> int | None:
    raw = request.args.get("before", "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


@blueprint.get("/metadata/revisions")
def revisions() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        before = _before()
        # One more than a page: whether an older page exists.
        rows = _service(current).revisions(limit=PAGE_SIZE + 1, before=before)
        page = rows[:PAGE_SIZE]
        return render_template(
            "setup/metadata/revisions.html",
            section="metadata-history",
            revisions=page,
            names={row.revision: changed_names(row.changes) for row in page},
            authors=people(current.connection, (row.author_id for row in page)),
            older=page[-1].revision if len(rows) > PAGE_SIZE else None,
            paged=before is not None,
            current_revision=current.schema.revision,
        )


@blueprint.get("/metadata/revisions/<int:number>")
def revision(number: int) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        row = _service(current).revision(number)
        return render_template(
            "setup/metadata/revision.html",
            section="metadata-history",
            revision=row,
            documents=revision_documents(row.changes),
            author=people(current.connection, [row.author_id]).get(row.author_id),
            current_revision=current.schema.revision,
        )


@blueprint.get("/metadata/revisions/<int:number>/rollback")
def rollback_confirm(number: int) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        service = _service(current)
        row = service.revision(number)
        return render_template(
            "setup/metadata/rollback.html",
            section="metadata-history",
            revision=row,
            documents=rollback_preview(service, number),
        )


@blueprint.post("/metadata/revisions/<int:number>/rollback")
def rollback(number: int) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        try:
            made = _service(current).rollback(number)
        except ValidationError as error:
            flash(f"Nothing was rolled back: {error.message}")
            return redirect(url_for("setup.revision", number=number))
        tenant_id = current.actor.tenant_id
    # After the commit, as the API does: the worker builds indexes the rollback planned.
    schedule_index_build(tenant_id)
    flash(f"Rolled back to revision {number}: the change is revision {made}.")
    return redirect(url_for("setup.revision", number=made))

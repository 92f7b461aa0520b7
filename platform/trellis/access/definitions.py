"""Roles and permission sets: listed, saved and deleted as metadata revisions.

Saving a role rebuilds the principal closure (the hierarchy moved) and queues share
recomputation for objects with owner-based rules, all in the transaction of the change.
A permission set or role still held by a user, or a role other roles sit below, cannot
be deleted.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.principals import rebuild_closure
from trellis.access.recompute import queue_membership_change
from trellis.actor import Actor
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.metadata.access_documents import (
    DEFAULT_PERMISSION_SETS,
    KINDS,
    validate_access_document,
)
from trellis.metadata.compiled import MetadataCache, TenantSchema
from trellis.metadata.service import MetadataService
from trellis.metadata.tables import meta_access


class AccessDefinitions:
    """One tenant's roles and permission sets, in the caller's transaction."""

    def __init__(self, connection: Connection, actor: Actor, cache: MetadataCache) -> None:
        self.connection = connection
        self.actor = actor
        self.cache = cache
        self.metadata = MetadataService(connection, actor, cache)

    def schema(self) -> TenantSchema:
        return self.cache.get(self.connection, self.actor.tenant_id)

    def list(self, kind: str) -> list[dict[str, Any]]:
        access = self.schema().access
        documents = access.roles if kind == "role" else access.permission_sets
        return [documents[name] for name in sorted(documents)]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        access = self.schema().access
        found = (access.roles if kind == "role" else access.permission_sets).get(name.lower())
        if found is None:
            raise NotFound(f"No {kind.replace('_', ' ')} {name!r}.")
        return dict(found)

    def save(self, kind: str, name: str | None, document: Any) -> dict[str, Any]:
        """Create (``name`` None) or replace the document named ``name``."""
        assert kind in KINDS
        self.actor.require_right("manage_users")
        self.metadata._lock()
        schema = self.schema()
        if name is not None and isinstance(document, dict):
            document = {**document, "api_name": document.get("api_name", name)}
        fields = {obj.api_name: list(obj.fields) for obj in schema.objects.values()}
        document = validate_access_document(kind, document, fields)
        if name is not None and document["api_name"].lower() != name.lower():
            raise ValidationError(
                "A name cannot change.", fields={"api_name": "Names are permanent."}
            )
        if kind == "role":
            problem = schema.access.hierarchy_problem(document["api_name"], document.get("parent"))
            if problem:
                raise ValidationError("The role cannot sit there.", fields={"parent": problem})
        row = self._row(kind, document["api_name"])
        if name is None and (row is not None or self._is_default(kind, document["api_name"])):
            raise Conflict(
                f"A {kind.replace('_', ' ')} named {document['api_name']!r} exists.",
                fields={"api_name": "Already taken."},
            )
        if name is not None and row is None and not self._is_default(kind, name):
            raise NotFound(f"No {kind.replace('_', ' ')} {name!r}.")
        before = row.definition if row is not None else None
        if row is None:
            document_id = self.connection.execute(
                meta_access.insert()
                .values(
                    tenant_id=self.actor.tenant_id,
                    kind=kind,
                    api_name=document["api_name"],
                    definition=document,
                )
                .returning(meta_access.c.id)
            ).scalar_one()
        else:
            document_id = row.id
            self.connection.execute(
                meta_access.update()
                .where(meta_access.c.id == row.id)
                .values(definition=document, updated_at=sa.func.now())
            )
        label = kind.replace("_", " ").capitalize()
        self.metadata.record_revision(
            f"{label} {document['api_name']}", {kind: [(document_id, before, document)]}
        )
        self._after_change(kind)
        return dict(document)

    def delete(self, kind: str, name: str) -> None:
        self.actor.require_right("manage_users")
        self.metadata._lock()
        row = self._row(kind, name)
        if row is None:
            raise NotFound(f"No {kind.replace('_', ' ')} {name!r}.")
        column = "role" if kind == "role" else "permission_sets"
        held = self.connection.execute(
            sa.text(
                "SELECT count(*) FROM users WHERE lower(role) = :name"
                if column == "role"
                else "SELECT count(*) FROM users WHERE EXISTS "
                "(SELECT FROM unnest(permission_sets) p WHERE lower(p) = :name)"
            ),
            {"name": name.lower()},
        ).scalar_one()
        if held:
            raise Conflict(f"{held} user(s) hold {name!r}; reassign them first.", code="in_use")
        if kind == "role" and any(
            (role.get("parent") or "").lower() == name.lower()
            for role in self.schema().access.roles.values()
        ):
            raise Conflict(f"Other roles sit below {name!r}; move them first.", code="in_use")
        self.connection.execute(
            meta_access.update().where(meta_access.c.id == row.id).values(deleted_at=sa.func.now())
        )
        self.metadata.record_revision(
            f"Delete {kind.replace('_', ' ')} {row.api_name}",
            {kind: [(row.id, row.definition, None)]},
        )
        self._after_change(kind)

    def _row(self, kind: str, name: str) -> sa.Row[Any] | None:
        return self.connection.execute(
            sa.select(meta_access).where(
                meta_access.c.kind == kind,
                sa.func.lower(meta_access.c.api_name) == name.lower(),
                meta_access.c.deleted_at.is_(None),
            )
        ).first()

    @staticmethod
    def _is_default(kind: str, name: str) -> bool:
        return kind == "permission_set" and name.lower() in DEFAULT_PERMISSION_SETS

    def _after_change(self, kind: str) -> None:
        if kind == "role":
            schema = self.schema()
            rebuild_closure(self.connection, self.actor.tenant_id, schema.access)
            queue_membership_change(
                self.connection, self.actor.tenant_id, schema, "role tree changed"
            )

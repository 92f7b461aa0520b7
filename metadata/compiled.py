"""Compiled metadata: what the records service and the API need, built once per revision.

:class:`MetadataCache` keeps one :class:`TenantSchema` per tenant and process. Each
use checks the tenant's current revision (one index-only lookup), so a change made
by any process is seen by every other on its next request, with no stale window.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.errors import NotFound
from trellis.metadata.access_documents import AccessMetadata
from trellis.metadata.field_types import FieldType, FieldTypeRegistry
from trellis.metadata.statements import StatementCache
from trellis.metadata.tables import meta_access, meta_objects, metadata_revisions

# The typed SQL expression of a stored value, by the field type's ``sql_type``. Field
# names are validated identifiers, so they are inlined: index definitions and queries
# must spell the very same expression for PostgreSQL to match them.
SQL_EXPRESSIONS = {
    "text": "(data->>'{name}')",
    "numeric": "((data->>'{name}')::numeric)",
    "boolean": "((data->>'{name}')::boolean)",
    "date": "trellis_date(data->>'{name}')",
    "timestamptz": "trellis_timestamptz(data->>'{name}')",
    "time": "trellis_time(data->>'{name}')",
    "jsonb": "(data->'{name}')",
}
# Statements and expressions kept per revision by TenantSchema.built.

SYSTEM_COLUMNS = {
    "id": ("id", "uuid"),
    "version": ("version", "numeric"),
    "created_at": ("created_at", "timestamptz"),
    "updated_at": ("updated_at", "timestamptz"),
    "created_by": ("created_by", "uuid"),
    "updated_by": ("updated_by", "uuid"),
    "owner_id": ("owner_id", "uuid"),
}


@dataclasses.dataclass(frozen=True)
class CompiledField:
    api_name: str
    definition: dict[str, Any]
    type: FieldType
    #: The type's normaliser for this definition (``FieldType.normalizer``).
    normalize: Callable[[Any], Any] = dataclasses.field(compare=False, repr=False)

    @property
    def sql_type(self) -> str | None:
        return self.type.sql_type_for(self.definition)

    @property
    def sql_expression(self) -> str:
        """The typed expression over the stored value (fields computed on read have none;
        auto-numbers are computed once, when a record is created, and stored)."""
        if self.sql_type is None or not self.type.stored:
            raise ValueError(f"{self.api_name} has no stored SQL form")
        return SQL_EXPRESSIONS[self.sql_type].format(name=self.api_name)

    def stored_expression(self, table: str) -> str:
        """:attr:`sql_expression` over another table alias (for cross-object paths)."""
        return self.sql_expression.replace("data->", f"{table}.data->")

    @property
    def stored_text_expression(self) -> str:
        return f"(data->>'{self.api_name}')"


CONDITION_KEYS = ("visible_when", "read_only_when", "required_when")


@dataclasses.dataclass(frozen=True)
class WritePlan:
    """Which fields and rules take part in a write, found once per revision rather than by
    walking every field for every record saved."""

    defaults: tuple[tuple[str, Any], ...]  # (field, value) for a new record
    default_formulas: tuple[CompiledField, ...]
    required: tuple[str, ...]
    unique: tuple[CompiledField, ...]
    auto_numbers: tuple[CompiledField, ...]
    lookups: tuple[CompiledField, ...]
    conditional: tuple[CompiledField, ...]  # with any of CONDITION_KEYS
    validation_rules: tuple[dict[str, Any], ...]  # active ones, in order

    @classmethod
    def build(cls, definition: dict[str, Any], fields: dict[str, CompiledField]) -> WritePlan:
        stored = [field for field in fields.values() if not field.type.computed]
        defaults = []
        for field in stored:
            default = field.definition.get("default")
            if default is None:
                default = field.type.default_when_absent  # a checkbox is never blank
            if default is not None:
                defaults.append((field.api_name, default))
        return cls(
            defaults=tuple(defaults),
            default_formulas=tuple(
                field for field in fields.values() if field.definition.get("default_formula")
            ),
            required=tuple(field.api_name for field in stored if field.definition.get("required")),
            unique=tuple(field for field in fields.values() if field.definition.get("unique")),
            auto_numbers=tuple(field for field in fields.values() if field.type.sequence),
            lookups=tuple(field for field in fields.values() if field.type.references_records),
            conditional=tuple(
                field
                for field in fields.values()
                if any(field.definition.get(key) for key in CONDITION_KEYS)
            ),
            validation_rules=tuple(
                rule for rule in definition.get("validation_rules", []) if rule.get("active", True)
            ),
        )


@dataclasses.dataclass(frozen=True)
class ObjectSchema:
    id: uuid.UUID
    api_name: str
    definition: dict[str, Any]
    fields: dict[str, CompiledField]  # active fields, by api_name
    hidden_fields: frozenset[str]  # deleted fields whose values are kept
    _by_lower: dict[str, str]
    writes: WritePlan
    #: The field whose value names a record (on screens, in links): see _name_field.
    name_field: str

    @classmethod
    def build(
        cls, object_id: uuid.UUID, definition: dict[str, Any], registry: FieldTypeRegistry
    ) -> ObjectSchema:
        fields, hidden = {}, set()
        for field in definition["fields"]:
            # A field whose type's plugin is no longer installed is hidden, not fatal:
            # its values stay and come back with the plugin.
            if field.get("deleted") or field["type"] not in registry:
                hidden.add(field["api_name"])
                continue
            field_type = registry.get(field["type"])
            fields[field["api_name"]] = CompiledField(
                field["api_name"], field, field_type, field_type.normalizer(field)
            )
        return cls(
            id=object_id,
            api_name=definition["api_name"],
            definition=definition,
            fields=fields,
            hidden_fields=frozenset(hidden),
            _by_lower={name.lower(): name for name in fields},
            writes=WritePlan.build(definition, fields),
            name_field=_name_field(definition, fields),
        )

    def find(self, name: str) -> CompiledField | None:
        """An active field by API name, case-insensitively, or None."""
        actual = self._by_lower.get(str(name).lower())
        return None if actual is None else self.fields[actual]

    def field(self, name: str) -> CompiledField:
        """A field by API name, case-insensitively; :class:`NotFound` names the object."""
        found = self.find(name)
        if found is None:
            raise NotFound(
                f"{self.api_name} has no field {name!r}.",
                code="unknown_field",
                fields={name: "Unknown field."},
            )
        return found

    def definition_field(self, name: str) -> dict[str, Any]:
        """A field's definition by API name, deleted (hidden) fields included."""
        for field in self.definition["fields"]:
            if field["api_name"].lower() == name.lower():
                return field
        raise NotFound(
            f"{self.api_name} has no field {name!r}.",
            code="unknown_field",
            fields={name: "Unknown field."},
        )

    def has_field(self, name: str) -> bool:
        return self.find(name) is not None

    def lookups(self) -> tuple[CompiledField, ...]:
        return self.writes.lookups


def _name_field(definition: dict[str, Any], fields: dict[str, CompiledField]) -> str:
    """The definition's ``name_field``, else the first active text or auto-number field,
    else ``id``: every object names its records by something."""
    if definition.get("name_field") in fields:
        return str(definition["name_field"])
    nameable = (name for name, field in fields.items() if field.type.usable_as_name)
    return next(nameable, "id")


@dataclasses.dataclass
class TenantSchema:
    revision: int
    objects: dict[str, ObjectSchema]  # by lower-case api_name
    functions: Any = None
    key: Any = None
    actions: Any = None  # the automation ActionRegistry
    # The plugin manager's hook relay: how the layers above metadata and records (the
    # automation engine, plugins) take part in saving metadata and records.
    hooks: Any = None
    # Makes this revision's formula compiler (metadata.formulas.FormulaCompiler, which
    # reads this schema): passed in, since that module builds on this one.
    formula_compiler: Callable[[TenantSchema, Any], Any] | None = None
    _formulas: Any = dataclasses.field(default=None, repr=False)
    statements: StatementCache = dataclasses.field(default_factory=StatementCache, repr=False)
    access: AccessMetadata = dataclasses.field(
        default_factory=lambda: AccessMetadata.build(()), repr=False
    )

    @property
    def formulas(self) -> Any:
        """The :class:`~trellis.metadata.formulas.FormulaCompiler` of this revision."""
        if self._formulas is None:
            if self.formula_compiler is None:
                raise RuntimeError("this metadata cache was built without a formula compiler")
            self._formulas = self.formula_compiler(self, self.functions)
        return self._formulas

    def object(self, api_name: str) -> ObjectSchema:
        found = self.objects.get(api_name.lower())
        if found is None:
            raise NotFound(f"No object {api_name!r}.", code="unknown_object")
        return found

    def by_id(self, object_id: uuid.UUID) -> ObjectSchema:
        for schema in self.objects.values():
            if schema.id == object_id:
                return schema
        raise NotFound(f"No object with id {object_id}.", code="unknown_object")

    def referencing_lookups(self, target: str) -> list[tuple[ObjectSchema, CompiledField]]:
        """Every lookup field (of any object) that points at ``target``."""
        return [
            (schema, field)
            for schema in self.objects.values()
            for field in schema.lookups()
            if field.definition["target"].lower() == target.lower()
        ]


def _latest_revision(tenant_id: Any) -> sa.Select:
    return (
        sa.select(metadata_revisions.c.revision, metadata_revisions.c.created_at)
        .where(metadata_revisions.c.tenant_id == tenant_id)
        .order_by(metadata_revisions.c.revision.desc())
        .limit(1)
    )


def revision_key_columns(tenant_id: Any) -> list[sa.ColumnElement]:
    """The tenant's revision key as two scalar columns, for a statement that already runs
    in the tenant at the start of a transaction (the API's token lookup) to carry along."""
    latest = _latest_revision(tenant_id).subquery()
    return [
        sa.select(latest.c.revision).scalar_subquery().label("metadata_revision"),
        sa.select(latest.c.created_at).scalar_subquery().label("metadata_revision_at"),
    ]


# Revision keys read earlier in the same transaction (see note_revision), by transaction.
_KNOWN_KEYS: weakref.WeakKeyDictionary[Any, tuple[uuid.UUID, tuple[int, Any]]] = (
    weakref.WeakKeyDictionary()
)


def note_revision(
    connection: Connection, tenant_id: uuid.UUID, revision: int | None, created_at: Any
) -> None:
    """Remember the key a statement of this transaction read, so that the cache need not
    read it again. Under READ COMMITTED a change committed later in the transaction is
    then seen by the next transaction, as if this one had run a moment earlier."""
    _KNOWN_KEYS[connection.get_transaction()] = (tenant_id, (revision or 0, created_at))


def forget_revision(connection: Connection) -> None:
    """This transaction is changing metadata: read the key afresh from now on."""
    _KNOWN_KEYS.pop(connection.get_transaction(), None)


def current_revision(connection: Connection, tenant_id: uuid.UUID) -> tuple[int, Any]:
    """The tenant's latest revision and when it was made. The time is part of the key: a
    rolled-back change gives its number back, and another process may commit the same
    number with different contents."""
    known = _KNOWN_KEYS.get(connection.get_transaction())
    if known is not None and known[0] == tenant_id:
        return known[1]
    row = connection.execute(_latest_revision(tenant_id)).first()
    return (row.revision, row.created_at) if row is not None else (0, None)


class MetadataCache:
    """Compiled metadata per tenant, replaced whenever the tenant's revision moves."""

    def __init__(
        self,
        registry: FieldTypeRegistry,
        functions: Any = None,
        actions: Any = None,
        hooks: Any = None,
        formula_compiler: Callable[[TenantSchema, Any], Any] | None = None,
    ) -> None:
        self.registry = registry
        self.formula_compiler = formula_compiler
        self.functions = functions
        self.actions = actions
        self.hooks = hooks
        self._entries: dict[uuid.UUID, TenantSchema] = {}
        self._lock = threading.Lock()

    def get(self, connection: Connection, tenant_id: uuid.UUID) -> TenantSchema:
        key = current_revision(connection, tenant_id)
        entry = self._entries.get(tenant_id)
        if entry is not None and entry.key == key:
            return entry
        rows = connection.execute(
            sa.select(meta_objects.c.id, meta_objects.c.definition).where(
                meta_objects.c.tenant_id == tenant_id, meta_objects.c.deleted_at.is_(None)
            )
        )
        objects = {
            row.definition["api_name"].lower(): ObjectSchema.build(
                row.id, row.definition, self.registry
            )
            for row in rows
        }
        documents = connection.execute(
            sa.select(meta_access.c.kind, meta_access.c.definition).where(
                meta_access.c.tenant_id == tenant_id, meta_access.c.deleted_at.is_(None)
            )
        )
        entry = TenantSchema(
            access=AccessMetadata.build((row.kind, row.definition) for row in documents),
            revision=key[0],
            objects=objects,
            functions=self.functions,
            key=key,
            actions=self.actions,
            hooks=self.hooks,
            formula_compiler=self.formula_compiler,
        )
        with self._lock:
            self._entries[tenant_id] = entry
        return entry

"""Formulas at save time: default values, conditional fields and validation rules.

The records service calls :func:`enforce` for every create and update, whatever the
channel (API, bulk, import, automations), so a field required by a condition is
required everywhere. Values are read lazily through :class:`RecordView`: stored
fields are converted for the engine, formula fields evaluated, cross-object paths
fetched once per related record, roll-ups computed in SQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.errors import ValidationError
from trellis.metadata.acting_user import actor_globals, actor_parameters
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.user_paths import OWNER_COLUMN, is_owner_path, user_object
from trellis.records.tables import records
from trellis.records.values import is_blank
from trellis.rule_engine import FormulaError

RECORD_ERRORS = "_record"  # envelope key of errors that belong to no single field


class ActorGlobals(Mapping[str, Any]):
    """The ``$``-globals of a save. ``$User.<Field>`` reads the acting user's User record,
    fetched on first use (most saves never do), with its values as the formula engine
    reads any record's (formula fields computed)."""

    def __init__(
        self,
        base: dict[str, Any],
        user: ObjectSchema | None,
        record: Callable[[], RecordView | None],
    ) -> None:
        self._base = base
        names = () if user is None else user.fields
        self._fields = {f"$User.{name}": name for name in names if f"$User.{name}" not in base}
        self._record = record

    def __getitem__(self, key: str) -> Any:
        if key in self._base:
            return self._base[key]
        name = self._fields[key]
        record = self._record()
        return None if record is None else record.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter({**self._base, **dict.fromkeys(self._fields)})

    def __len__(self) -> int:
        return len(self._base) + len(self._fields)


class RuleContext:
    """What formulas may read during one save: related records, globals, the clock."""

    def __init__(self, connection: Connection, actor: Actor, schema: TenantSchema) -> None:
        self.connection = connection
        self.actor = actor
        self.schema = schema
        self.now = dt.datetime.now(dt.UTC)
        self.user = user_object(schema)
        self.globals = ActorGlobals(actor_globals(actor), self.user, self._user_record)
        # The same actor, for the formulas of this save that run as SQL (roll-ups).
        self.parameters = actor_parameters(actor)
        self._related: dict[uuid.UUID, RecordView | None] = {}

    def _user_record(self) -> RecordView | None:
        """The acting user's User record (trellis.records.users), if they have one."""
        if self.actor.user_id is None or self.user is None:
            return None
        return self.related(self.user, str(self.actor.user_id))

    def view(
        self, obj: ObjectSchema, data: Mapping[str, Any], system: Mapping[str, Any] | None = None
    ) -> RecordView:
        return RecordView(self, obj, data, system or {})

    def related(self, obj: ObjectSchema, record_id: str) -> RecordView | None:
        key = uuid.UUID(record_id)
        if key not in self._related:
            row = self.connection.execute(
                sa.select(
                    records.c.id,
                    records.c.data,
                    records.c.owner_id,
                    records.c.created_at,
                    records.c.updated_at,
                    records.c.created_by,
                    records.c.updated_by,
                    records.c.version,
                ).where(
                    records.c.tenant_id == self.actor.tenant_id,
                    records.c.object_id == obj.id,
                    records.c.id == key,
                    records.c.deleted_at.is_(None),
                )
            ).first()
            self._related[key] = (
                None
                if row is None
                else self.view(
                    obj,
                    row.data,
                    {name: getattr(row, name) for name in row._fields if name != "data"},
                )
            )
        return self._related[key]

    def evaluate(
        self,
        obj: ObjectSchema,
        source: str,
        view: RecordView,
        *,
        expected_type: str | None = None,
        prior: RecordView | None = None,
        is_new: bool = False,
    ) -> Any:
        formula = self.schema.formulas.compile(obj, source, expected_type=expected_type)
        return formula.evaluate(
            view, prior=prior, is_new=is_new, now=self.now, globals=self.globals
        )


class RecordView(Mapping[str, Any]):
    """A record as the formula engine sees it, computed on demand."""

    def __init__(
        self,
        context: RuleContext,
        obj: ObjectSchema,
        data: Mapping[str, Any],
        system: Mapping[str, Any],
    ) -> None:
        self.context = context
        self.obj = obj
        self.data = data
        self.system = system
        self._computed: dict[str, Any] = {}

    def get(self, path: str, default: Any = None) -> Any:
        head, _, rest = path.partition(".")
        if rest:
            related = self._follow(head)
            return None if related is None else related.get(rest)
        if head in self.system:
            value = self.system[head]
            return str(value) if isinstance(value, uuid.UUID) else value
        field = self.obj.fields.get(head)
        if field is None:
            return default
        if not field.type.stored:
            if head not in self._computed:
                self._computed[head] = self._compute(field)
            return self._computed[head]
        return field.type.to_formula_value(self.data.get(head), field.definition)

    def _follow(self, head: str) -> RecordView | None:
        """The record a lookup (or ``Owner``, the owner's User record) leads to."""
        schema = self.context.schema
        if is_owner_path(schema, self.obj, head):
            owner_id, user = self.system.get(OWNER_COLUMN), self.context.user
            if owner_id is None or user is None:
                return None
            return self.context.related(user, str(owner_id))
        target_id = self.data.get(head)
        field = self.obj.fields.get(head)
        if target_id is None or field is None or not field.type.references_records:
            return None
        return self.context.related(schema.object(field.definition["target"]), target_id)

    def _compute(self, field: Any) -> Any:
        definition = field.definition
        if field.type.aggregates:
            record_id = self.system.get("id")
            if record_id is None:  # a new record has no children yet
                return Decimal(0) if definition["function"] in {"COUNT", "SUM"} else None
            resolver = self.context.schema.formulas.sql(self.obj, self.context.actor.tenant_id)
            return self.context.connection.execute(
                sa.select(resolver.rollup(field))
                .select_from(records)
                .where(
                    records.c.tenant_id == self.context.actor.tenant_id, records.c.id == record_id
                ),
                self.context.parameters,
            ).scalar()
        formula = self.context.schema.formulas.field_formula(self.obj, field)
        value = formula.evaluate(self, now=self.context.now, globals=self.context.globals)
        if value is None or definition.get("return_type") not in {"number", "currency", "percent"}:
            return value
        # As the SQL form does (formulas.finish_number): percent as shown, rounded to scale.
        if definition["return_type"] == "percent":
            value = value * 100
        return value.quantize(
            Decimal(1).scaleb(-int(definition.get("scale", 2))), rounding=ROUND_HALF_UP
        )

    def __getitem__(self, path: str) -> Any:
        return self.get(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self.obj.fields)

    def __len__(self) -> int:
        return len(self.obj.fields)


def apply_default_formulas(context: RuleContext, obj: ObjectSchema, data: dict[str, Any]) -> None:
    """Fill blank fields of a new record from their ``default_formula``."""
    errors: dict[str, list[str]] = {}
    for field in obj.writes.default_formulas:
        name, source = field.api_name, field.definition["default_formula"]
        if not is_blank(data.get(name)):
            continue
        try:
            value = context.evaluate(obj, source, context.view(obj, data))
            if value is not None:
                data[name] = field.normalize(storable(value))
        except (FormulaError, ValueError) as error:
            errors[name] = [f"The default could not be computed: {error}"]
    if errors:
        raise ValidationError("Some defaults could not be computed.", fields=errors)


def enforce(
    context: RuleContext,
    obj: ObjectSchema,
    merged: Mapping[str, Any],
    prior: Mapping[str, Any] | None,
    changed: set[str],
    system: Mapping[str, Any],
    errors: dict[str, list[str]],
) -> None:
    """Conditional fields and validation rules, reported at once with ``errors`` (the
    required-field errors found before)."""
    if obj.writes.conditional or obj.writes.validation_rules:
        _rule_errors(context, obj, merged, prior, changed, system, errors)
    if errors:
        raise ValidationError(
            "The record breaks some rules.", fields=errors, code="validation_error"
        )


def _rule_errors(
    context: RuleContext,
    obj: ObjectSchema,
    merged: Mapping[str, Any],
    prior: Mapping[str, Any] | None,
    changed: set[str],
    system: Mapping[str, Any],
    errors: dict[str, list[str]],
) -> None:
    """Add the messages of failed conditions and validation rules to ``errors``."""
    plan = obj.writes
    is_new = prior is None
    view = context.view(obj, merged, system)
    before = None if prior is None else context.view(obj, prior, system)

    def condition(source: str, on: RecordView) -> bool | None:
        return context.evaluate(obj, source, on, expected_type="checkbox")

    for field in plan.conditional:
        name, definition = field.api_name, field.definition
        try:
            if (
                definition.get("visible_when")
                and name in changed
                and not is_blank(merged.get(name))
                and condition(definition["visible_when"], view) is not True
            ):
                errors.setdefault(name, []).append("This field is hidden here.")
            if (
                definition.get("read_only_when")
                and name in changed
                and condition(definition["read_only_when"], before or view) is True
            ):
                errors.setdefault(name, []).append("This field is read-only here.")
            if (
                definition.get("required_when")
                and is_blank(merged.get(name))
                and name not in errors
                and condition(definition["required_when"], view) is True
            ):
                errors.setdefault(name, []).append("This field is required.")
        except FormulaError as error:
            errors.setdefault(name, []).append(f"A condition could not be evaluated: {error}")
    for rule in plan.validation_rules:
        target = rule.get("error_field") or RECORD_ERRORS
        try:
            failed = context.evaluate(
                obj, rule["condition"], view, expected_type="checkbox", prior=before, is_new=is_new
            )
        except FormulaError as error:
            errors.setdefault(target, []).append(
                f"Rule {rule['name']} could not be evaluated: {error}"
            )
            continue
        if failed is True:  # blank does not fire, as in Salesforce
            errors.setdefault(target, []).append(rule["message"])


def storable(value: Any) -> Any:
    """An engine result as a value the field type's normaliser accepts."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def before_save(
    context: RuleContext,
    obj: ObjectSchema,
    event_type: str,
    data: dict[str, Any],
    prior: dict[str, Any] | None,
    system: dict[str, Any],
) -> set[str]:
    """Announce a record about to be saved (the record lifecycle hook): before-save
    automations and plugins change ``data`` in place; return the fields they changed."""
    hooks = context.schema.hooks
    if hooks is None:
        return set()
    changed: set[str] = set()
    for names in hooks.before_record_save(
        context=context,
        obj=obj,
        event_type=event_type,
        data=data,
        prior=prior,
        system=system,
    ):
        changed |= names or set()
    return changed

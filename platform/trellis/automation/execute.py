"""Executing one automation run: its actions in order, each exactly once.

Each action has an execution key (run × action index) recorded in the run's
``actions_done``. Record actions commit together with their key, so a retry after
a crash never repeats them; a webhook is delivered before its key is recorded, so
at worst it is delivered again, with the same ``X-Trellis-Delivery`` id for the
receiver to recognise. Failures are retried with capped exponential backoff by
the Celery task; after the last attempt the run is ``dead`` until replayed.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re
import time
import uuid
from typing import Any

import sqlalchemy as sa

from jinja2 import TemplateError

from trellis.actor import Actor, system_actor
from trellis.config import Config
from trellis.db import Database
from trellis.errors import NotFound, TrellisError
from trellis.mail import MailError, build, render, send
from trellis.metadata.compiled import MetadataCache, ObjectSchema, TenantSchema
from trellis.records.rules import RecordView, RuleContext
from trellis.records.service import RecordService
from trellis.records.tables import automation_runs, events, records
from trellis.rule_engine import FormulaError
from trellis.tables import tenants

FINAL = frozenset({"succeeded", "dead", "skipped"})
EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")


class ActionFailed(Exception):
    """An action could not complete; the run is retried."""


def backoff_seconds(attempts: int) -> int:
    """Capped exponential backoff: 2, 4, 8, … seconds, at most five minutes."""
    return min(2 ** attempts, 300)


def execute_run(database: Database, cache: MetadataCache, config: Config,
                tenant_id: uuid.UUID, run_id: int) -> str:
    """Run the remaining actions of a run; return its status afterwards."""
    with database.platform() as connection:
        slug = connection.execute(sa.select(tenants.c.slug)
                                  .where(tenants.c.id == tenant_id)).scalar_one()
    actor = system_actor(tenant_id, slug)
    with database.tenant(tenant_id) as connection:
        run = connection.execute(sa.select(automation_runs).where(
            automation_runs.c.id == run_id).with_for_update()).first()
        if run is None or run.status in FINAL:
            return run.status if run else "missing"
        connection.execute(automation_runs.update().where(automation_runs.c.id == run_id).values(
            status="running", attempts=automation_runs.c.attempts + 1,
            started_at=sa.func.coalesce(automation_runs.c.started_at, sa.func.now())))
    started = time.perf_counter()
    try:
        for index, action in enumerate(_automation(database, cache, tenant_id, run)["actions"]):
            if index in run.actions_done:
                continue
            _perform(database, cache, config, actor, run, index, action)
    except (ActionFailed, TrellisError, FormulaError) as error:
        return _finish(database, tenant_id, run_id, started, config.automation_max_attempts,
                       error=str(error))
    return _finish(database, tenant_id, run_id, started, config.automation_max_attempts)


def _automation(database: Database, cache: MetadataCache, tenant_id: uuid.UUID,
                run: Any) -> dict[str, Any]:
    with database.tenant(tenant_id) as connection:
        obj = cache.get(connection, tenant_id).by_id(run.object_id)
    for automation in obj.definition.get("automations", []):
        if automation["api_name"] == run.automation:
            return automation
    raise ActionFailed(f"Automation {run.automation} no longer exists.")


def _perform(database: Database, cache: MetadataCache, config: Config, actor: Actor,
             run: Any, index: int, action: dict[str, Any]) -> None:
    with database.tenant(actor.tenant_id) as connection:
        schema = cache.get(connection, actor.tenant_id)
        obj = schema.by_id(run.object_id)
        context = RuleContext(connection, actor, schema)
        view, chain = _trigger_record(connection, context, obj, run)
        if action["type"] == "call_webhook":
            payload = {key: _json_value(context.evaluate(obj, source, view))
                       for key, source in action.get("payload", {}).items()}
        elif action["type"] == "send_email":
            message = _email(config, obj, context, view, action)
        else:
            _record_action(connection, schema, actor, obj, context, view, chain, run, action)
            _mark_done(connection, run.id, index)
            return
    # Outside the transaction: a slow server must not hold a database connection.
    if action["type"] == "send_email":
        try:
            send(config, message)
        except MailError as error:
            raise ActionFailed(str(error)) from None
    else:
        _call_webhook(config, action, payload, f"{run.id}:{index}", run)
    with database.tenant(actor.tenant_id) as connection:
        _mark_done(connection, run.id, index)


def _email(config: Config, obj: ObjectSchema, context: RuleContext, view: RecordView,
           action: dict[str, Any]) -> Any:
    recipients = [context.evaluate(obj, source, view) for source in action["to"]]
    bad = [str(r) for r in recipients if not isinstance(r, str) or not EMAIL.fullmatch(r)]
    if bad or not recipients:
        raise ActionFailed(f"Not an email address: {', '.join(bad) or 'none given'}.")
    values = {name: _json_value(view.get(name)) for name in obj.fields}
    values["id"] = str(view.system.get("id"))
    try:
        return build(config, recipients, render(action["subject"], values),
                     render(action["body"], values))
    except TemplateError as error:
        raise ActionFailed(f"The email template failed: {error}") from None


def _trigger_record(connection: Any, context: RuleContext, obj: ObjectSchema,
                    run: Any) -> tuple[RecordView, dict[str, Any]]:
    """The triggering record as it is now (or as the event saw it, once deleted), and the
    automation chain its writes continue."""
    event = connection.execute(sa.select(events.c.payload).where(
        events.c.id == run.event_id)).scalar_one()
    row = connection.execute(sa.select(records.c.data, records.c.owner_id).where(
        records.c.id == run.record_id, records.c.deleted_at.is_(None))).first()
    data = row.data if row is not None else (event.get("record") or event.get("prior") or {})
    system = {"id": run.record_id, "owner_id": row.owner_id if row is not None else None}
    previous = event.get("chain") or {}
    chain = {"depth": previous.get("depth", 0) + 1,
             "seen": [*previous.get("seen", []), [run.automation, str(run.record_id)]]}
    return context.view(obj, data, system), chain


def _record_action(connection: Any, schema: TenantSchema, actor: Actor, obj: ObjectSchema,
                   context: RuleContext, view: RecordView, chain: dict[str, Any], run: Any,
                   action: dict[str, Any]) -> None:
    target = obj if action["type"] == "update_fields" else schema.object(action["object"])
    values = {name: _field_value(context.evaluate(obj, source, view))
              for name, source in action["values"].items()}
    service = RecordService(connection, actor, schema, target, chain=chain)
    try:
        if action["type"] == "update_fields":
            service.update(run.record_id, values)
        else:
            service.create(values)
    except NotFound as error:
        raise ActionFailed(error.message) from None
    except TrellisError as error:
        details = "; ".join(f"{name}: {' '.join(messages)}"
                            for name, messages in error.fields.items())
        raise ActionFailed(f"{error.message} {details}".strip()) from None


def _call_webhook(config: Config, action: dict[str, Any], payload: dict[str, Any],
                  delivery_id: str, run: Any) -> None:
    from trellis.outbound import CircuitBreaker, deliver
    from trellis.state import get_state

    body = {"automation": run.automation, "record_id": str(run.record_id),
            "trigger": run.trigger, "data": payload}
    delivery = deliver(action["url"], body, secret=action["secret"],
                       method=action.get("method", "POST"),
                       timeout=float(action.get("timeout", config.webhook_timeout_seconds)),
                       allow_private=config.webhook_allow_private,
                       breaker=CircuitBreaker.from_config(get_state().redis, config),
                       headers={"X-Trellis-Delivery": delivery_id})
    if not delivery.ok:
        raise ActionFailed(f"Webhook {action['url']} failed: "
                           f"{delivery.error or f'HTTP {delivery.status_code}'}")


def _mark_done(connection: Any, run_id: int, index: int) -> None:
    connection.execute(automation_runs.update().where(automation_runs.c.id == run_id).values(
        actions_done=automation_runs.c.actions_done.op("||")(sa.func.to_jsonb(index))))


def _finish(database: Database, tenant_id: uuid.UUID, run_id: int, started: float,
            max_attempts: int, *, error: str | None = None) -> str:
    with database.tenant(tenant_id) as connection:
        attempts = connection.execute(sa.select(automation_runs.c.attempts).where(
            automation_runs.c.id == run_id)).scalar_one()
        status = "succeeded" if error is None else \
            ("dead" if attempts >= max_attempts else "failed")
        connection.execute(automation_runs.update().where(automation_runs.c.id == run_id).values(
            status=status, error=error, finished_at=sa.func.now(),
            duration_ms=int((time.perf_counter() - started) * 1000)))
    return status


def _field_value(value: Any) -> Any:
    """An engine result as a value the records service accepts."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value

"""Every plugin hook works and is documented; third-party plugins load from entry points."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Blueprint, Flask, render_template
from helpers import assert_envelope

from trellis import hookspecs
from trellis.errors import ValidationError
from trellis.hookspecs import hookimpl
from trellis.plugins_manager import DEFAULT_PLUGINS, build_plugin_manager

DOCS = Path(__file__).parents[2] / "docs" / "plugins.md"


def hook_names() -> list[str]:
    return [
        name
        for name, value in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(value, "trellis_spec")
    ]


def test_every_hook_has_a_docstring_and_a_docs_entry() -> None:
    docs = DOCS.read_text()
    assert hook_names(), "no hooks found"
    for name in hook_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name
        assert f"`{name}" in docs, f"docs/plugins.md does not document {name}"


def test_every_hook_has_a_test() -> None:
    source = Path(__file__).read_text()
    for name in hook_names():
        assert f"def test_hook_{name}" in source, name


def test_built_in_plugins_are_registered_like_third_party_ones() -> None:
    manager = build_plugin_manager(load_entry_points=False)
    assert {name for name, _ in manager.list_name_plugin()} >= set(DEFAULT_PLUGINS)


class PagePlugin:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[Flask] = []

    @hookimpl
    def register_blueprints(self) -> list:
        blueprint = Blueprint("hello_plugin", __name__)

        @blueprint.get("/hello")
        def hello() -> str:
            return render_template("hello.html", name="plugin")

        return [blueprint]

    @hookimpl
    def template_folders(self) -> list[str]:
        return [str(self.folder)]

    @hookimpl
    def startup(self, app: Flask) -> None:
        self.started.append(app)

    @hookimpl
    def register_celery_tasks(self, celery: Any) -> None:
        @celery.task(name="hello_plugin.double", shared=False)
        def double(value: int) -> int:
            return value * 2

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command("hello")
        def hello_command() -> None:
            click.echo("hello from a plugin")


@pytest.fixture()
def plugin(tmp_path: Path) -> PagePlugin:
    (tmp_path / "hello.html").write_text("Hello {{ name }}!")
    # Overrides a built-in template: plugin folders come first.
    (tmp_path / "error.html").write_text("custom error {{ status }}")
    return PagePlugin(tmp_path)


def test_hook_register_blueprints(make_app, plugin: PagePlugin) -> None:
    app = make_app(plugins=[plugin])
    assert app.test_client().get("/hello").get_data(as_text=True) == "Hello plugin!"


def test_hook_template_folders(make_app, plugin: PagePlugin) -> None:
    app = make_app(plugins=[plugin])
    page = app.test_client().get("/missing", headers={"Accept": "text/html"})
    assert page.get_data(as_text=True) == "custom error 404"


def test_hook_startup(make_app, plugin: PagePlugin) -> None:
    app = make_app(plugins=[plugin])
    assert plugin.started == [app]


def test_hook_register_celery_tasks(make_app, plugin: PagePlugin) -> None:
    app = make_app(plugins=[plugin])
    task = app.extensions["celery"].tasks["hello_plugin.double"]
    assert task.apply(args=(21,)).get() == 42


def test_hook_register_commands(plugin: PagePlugin) -> None:
    group = click.Group("trellis")
    manager = build_plugin_manager([plugin], load_entry_points=False)
    manager.hook.register_commands(cli=group)
    result = CliRunner().invoke(group, ["hello"])
    assert result.output == "hello from a plugin\n"


def test_entry_point_plugins_are_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "acme_plugin.py").write_text(
        "from trellis import hookimpl\n"
        "@hookimpl\n"
        "def template_folders():\n"
        "    return ['/acme/templates']\n"
    )
    dist = tmp_path / "acme_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[trellis]\nacme = acme_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = build_plugin_manager()
    assert ["/acme/templates"] in manager.hook.template_folders()
    sys.modules.pop("acme_plugin", None)


class RatingPlugin:
    """A third-party field type: a 1–5 star rating stored as an integer."""

    @hookimpl
    def register_field_types(self, registry: Any) -> None:
        import marshmallow

        from trellis.metadata.field_types import ORDERED_OPERATORS, FieldType

        class Rating(FieldType):
            name = "rating"
            sql_type = "numeric"
            operators = ORDERED_OPERATORS

            def marshmallow_field(self, field: dict) -> marshmallow.fields.Field:
                return marshmallow.fields.Integer(
                    allow_none=True,
                    strict=True,
                    validate=marshmallow.validate.Range(1, 5, error="From 1 to 5 stars."),
                )

            def json_schema(self, field: dict) -> dict:
                return {"type": ["integer", "null"], "minimum": 1, "maximum": 5}

        registry.register(Rating())


def test_hook_register_field_types(make_app, tenant) -> None:
    app = make_app(plugins=[RatingPlugin()])
    client = app.test_client()
    headers = tenant.headers()
    created = client.post(
        "/api/v1/meta/objects",
        headers=headers,
        json={
            "api_name": "Review",
            "label": "Review",
            "fields": [{"api_name": "Stars", "type": "rating"}],
        },
    )
    assert created.status_code == 201, created.get_json()
    good = client.post("/api/v1/objects/Review/records", headers=headers, json={"Stars": 4})
    assert good.status_code == 201 and good.get_json()["Stars"] == 4
    bad = client.post("/api/v1/objects/Review/records", headers=headers, json={"Stars": 9})
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {"Stars": ["From 1 to 5 stars."]}
    listed = client.get("/api/v1/objects/Review/records?Stars__gte=3", headers=headers)
    assert [row["Stars"] for row in listed.get_json()["data"]] == [4]


class DiscountPlugin:
    """A third-party formula function, usable in rules like the built-ins."""

    @hookimpl
    def register_formula_functions(self, registry: Any) -> None:
        @registry.function("DISCOUNTED", args=["number", "number"], returns="number")
        def discounted(amount: Any, rate: Any) -> Any:
            return amount * (1 - rate)


def test_hook_register_formula_functions(make_app, tenant) -> None:
    app = make_app(plugins=[DiscountPlugin()])
    headers = tenant.headers()
    client = app.test_client()
    created = client.post(
        "/api/v1/meta/objects",
        headers=headers,
        json={
            "api_name": "Deal",
            "label": "Deal",
            "fields": [{"api_name": "Amount", "type": "number"}],
            "validation_rules": [
                {
                    "name": "Floor",
                    "condition": "DISCOUNTED(Amount, 0.5) < 10",
                    "message": "Too small after discount.",
                }
            ],
        },
    )
    assert created.status_code == 201, created.get_json()
    refused = client.post("/api/v1/objects/Deal/records", headers=headers, json={"Amount": 15})
    assert refused.get_json()["errors"] == {"_record": ["Too small after discount."]}
    assert (
        client.post(
            "/api/v1/objects/Deal/records", headers=headers, json={"Amount": 30}
        ).status_code
        == 201
    )
    # Without the plugin the function does not exist (and says so, with a suggestion).
    check = tenant.api(
        "POST",
        "/api/v1/meta/formulas/check",
        json={
            "object": "Deal",
            "expression": "DISCOUNTED(Amount, 0.1)",
            "purpose": "formula_field",
        },
    )
    assert check.get_json()["valid"] is False


class StampPlugin:
    """A third-party automation action: write a formula's value into a field."""

    @hookimpl
    def register_automation_actions(self, registry: Any) -> None:
        from trellis.automation.actions import UPDATED, ActionType

        class Stamp(ActionType):
            name = "acme.stamp"
            properties = {"field": {"type": "string"}, "formula": {"type": "string"}}
            required = ("field", "formula")

            def checks(self, check: Any, action: dict) -> Any:
                return check.values(check.obj, {action["field"]: action["formula"]})

            def writes(self, schema: Any, obj: Any, action: dict) -> list:
                return [(obj.api_name, UPDATED)]

            def perform(self, step: Any, action: dict) -> None:
                values = step.field_values({action["field"]: action["formula"]})
                step.write(lambda: step.records(step.obj).update(step.run.record_id, values))

        registry.register(Stamp())


def test_hook_register_automation_actions(make_app, tenant) -> None:
    from trellis.automation.execute import execute_run
    from trellis.outbox.dispatch import dispatch_pending
    from trellis.outbox.tasks import consumers_of

    app = make_app(plugins=[StampPlugin()])
    assert (
        tenant.api(
            "POST",
            "/api/v1/meta/objects",
            app=app,
            json={
                "api_name": "Lead",
                "label": "Lead",
                "fields": [
                    {"api_name": "Name", "type": "text"},
                    {"api_name": "Code", "type": "text"},
                ],
            },
        ).status_code
        == 201
    )
    automation = {
        "api_name": "stamp",
        "object": "Lead",
        "trigger": "created",
        "timing": "after_save",
    }
    # Its schema and its own checks apply when the automation is saved.
    bad = tenant.api(
        "POST",
        "/api/v1/meta/automations",
        app=app,
        json={**automation, "actions": [{"type": "acme.stamp", "field": "Code", "formula": "1 +"}]},
    )
    assert "automations.stamp.actions.0.values.Code" in bad.get_json()["errors"]
    missing = tenant.api(
        "POST",
        "/api/v1/meta/automations",
        app=app,
        json={**automation, "actions": [{"type": "acme.stamp", "field": "Code"}]},
    )
    assert "'formula' is a required property" in str(missing.get_json()["errors"])
    good = tenant.api(
        "POST",
        "/api/v1/meta/automations",
        app=app,
        json={
            **automation,
            "actions": [{"type": "acme.stamp", "field": "Code", "formula": "UPPER(Name)"}],
        },
    )
    assert good.status_code == 201, good.get_json()
    # Its declared writes take part in the loop check: an update fires "updated" ones.
    loop = tenant.api(
        "POST",
        "/api/v1/meta/automations",
        app=app,
        json={
            **automation,
            "api_name": "restamp",
            "trigger": "updated",
            "actions": [{"type": "acme.stamp", "field": "Code", "formula": "Name"}],
        },
    )
    assert loop.get_json()["code"] == "automation_cycle"
    # And it runs.
    lead = tenant.api(
        "POST", "/api/v1/objects/Lead/records", app=app, json={"Name": "ada"}
    ).get_json()
    state = app.extensions["trellis"]
    # In this process: only this app has the plugin.
    dispatch_pending(state.database, state.metadata_cache, consumers_of(state))
    [run] = tenant.api("GET", "/api/v1/automation-runs", app=app).get_json()["data"]
    assert (
        execute_run(state.database, state.metadata_cache, state.config, tenant.id, run["id"])
        == "succeeded"
    )
    record = tenant.api("GET", f"/api/v1/objects/Lead/records/{lead['id']}", app=app)
    assert record.get_json()["Code"] == "ADA"


class AuditConsumerPlugin:
    """An outbox consumer of its own: it sees every committed record event once."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def event_consumers(self, config: Any) -> list[Any]:
        plugin = self

        class Consumer:
            task = "acme.audit"

            def start_batch(self, connection: Any, context: Any) -> Any:
                def handle(obj: Any, event: Any) -> list[int]:
                    plugin.seen.append((obj.api_name, event.type))
                    return [len(plugin.seen)]

                return handle

            def stale(self, database: Any) -> list[Any]:
                return []

        return [Consumer()]


def test_hook_event_consumers(make_app, tenant) -> None:
    from trellis.outbox.dispatch import dispatch_pending
    from trellis.outbox.tasks import consumers_of

    plugin = AuditConsumerPlugin()
    app = make_app(plugins=[plugin])
    created = tenant.api(
        "POST",
        "/api/v1/meta/objects",
        app=app,
        json={
            "api_name": "Lead",
            "label": "Lead",
            "fields": [{"api_name": "Name", "type": "text"}],
        },
    )
    assert created.status_code == 201
    assert (
        tenant.api(
            "POST", "/api/v1/objects/Lead/records", app=app, json={"Name": "ada"}
        ).status_code
        == 201
    )
    state = app.extensions["trellis"]
    consumers = consumers_of(state)
    # The built-in consumers are announced through the same hook.
    assert {"trellis.run_automation", "trellis.deliver_webhook", "acme.audit"} <= {
        consumer.task for consumer in consumers
    }
    work = dispatch_pending(state.database, state.metadata_cache, consumers)
    assert ("Lead", "record.created") in plugin.seen
    assert any(tenant_id == tenant.id for tenant_id, _ in work["acme.audit"])
    # Dispatched once: a second pass finds nothing of this tenant's left.
    again = dispatch_pending(state.database, state.metadata_cache, consumers)
    assert not [item for item in again["acme.audit"] if item[0] == tenant.id]


class UpperNamePlugin:
    """Lifecycle plugins: one that changes a record as it is saved, one that checks a
    part of object definitions, one that refuses a tenant-wide change."""

    @hookimpl
    def before_record_save(
        self, context: Any, obj: Any, event_type: str, data: dict, prior: Any, system: Any
    ) -> set[str] | None:
        if obj.api_name == "Lead" and isinstance(data.get("Name"), str):
            data["Name"] = data["Name"].upper()
            return {"Name"}
        return None

    @hookimpl
    def object_definition_checks(self, compiler: Any, obj: Any, saved: Any) -> list[Any]:
        def no_secret_label() -> None:
            if "secret" in obj.definition.get("label", "").lower():
                raise ValidationError("Labels may not say secret.")

        return [("label", no_secret_label)]

    @hookimpl
    def check_object_change(self, schema: Any, api_name: str, saved: Any) -> None:
        if len(schema.objects) > 2:
            raise ValidationError("Two objects are enough.", fields={"": ["Too many objects."]})


def _lead(app: Flask, tenant: Any, **extra: Any) -> Any:
    return tenant.api(
        "POST",
        "/api/v1/meta/objects",
        app=app,
        json={
            "api_name": "Lead",
            "label": "Lead",
            "fields": [{"api_name": "Name", "type": "text"}],
            **extra,
        },
    )


def test_hook_before_record_save(make_app, tenant) -> None:
    app = make_app(plugins=[UpperNamePlugin()])
    assert _lead(app, tenant).status_code == 201
    created = tenant.api("POST", "/api/v1/objects/Lead/records", app=app, json={"Name": "ada"})
    assert created.get_json()["Name"] == "ADA"
    record_id = created.get_json()["id"]
    tenant.api("PATCH", f"/api/v1/objects/Lead/records/{record_id}", app=app, json={"Name": "bo"})
    history = tenant.api(
        "GET", f"/api/v1/objects/Lead/records/{record_id}/history", app=app
    ).get_json()["data"]
    # The change the plugin made is the one saved and logged.
    assert history[0]["changes"]["Name"] == ["ADA", "BO"]


def test_hook_object_definition_checks(make_app, tenant) -> None:
    app = make_app(plugins=[UpperNamePlugin()])
    refused = _lead(app, tenant, label="Secret leads")
    body = assert_envelope(refused, 422)
    assert "label" in body["errors"]
    assert tenant.api("GET", "/api/v1/meta/objects", app=app).get_json()["data"] == []


class RevisionPlugin:
    def __init__(self) -> None:
        self.seen: list[tuple[int, str, list[str], Any]] = []

    @hookimpl
    def metadata_revision_recorded(
        self, connection: Any, actor: Any, revision: int, message: str, objects: list[str]
    ) -> None:
        in_transaction = connection.execute(
            sa.text("SELECT count(*) FROM metadata_revisions WHERE revision = :r"), {"r": revision}
        ).scalar()
        self.seen.append((revision, message, objects, (actor.user_id, in_transaction)))


def test_hook_metadata_revision_recorded(make_app, tenant) -> None:
    plugin = RevisionPlugin()
    app = make_app(plugins=[plugin])
    definition = {
        "api_name": "Lead",
        "label": "Lead",
        "fields": [{"api_name": "Name", "type": "text"}],
    }
    created = tenant.api("POST", "/api/v1/meta/objects?message=first", app=app, json=definition)
    assert created.status_code == 201
    refused = tenant.api("POST", "/api/v1/meta/objects", app=app, json={"api_name": "9"})
    assert refused.status_code == 422
    # Called once, for the saved change only, inside its transaction (the revision is
    # visible there already).
    assert [(r, o, who) for r, _, o, who in plugin.seen] == [(1, ["Lead"], (tenant.admin_id, 1))]


def test_hook_check_object_change(make_app, tenant) -> None:
    app = make_app(plugins=[UpperNamePlugin()])
    for name in ("Lead", "Deal"):
        created = tenant.api(
            "POST",
            "/api/v1/meta/objects",
            app=app,
            json={
                "api_name": name,
                "label": name,
                "fields": [{"api_name": "Name", "type": "text"}],
            },
        )
        assert created.status_code == 201
    third = tenant.api(
        "POST",
        "/api/v1/meta/objects",
        app=app,
        json={
            "api_name": "Case",
            "label": "Case",
            "fields": [{"api_name": "Name", "type": "text"}],
        },
    )
    assert_envelope(third, 422)
    names = [
        o["api_name"] for o in tenant.api("GET", "/api/v1/meta/objects", app=app).get_json()["data"]
    ]
    assert sorted(names) == ["Deal", "Lead"]

"""Plugin field types and functions behave like the built-ins through declared capabilities.

Core code asks a field type what it can do (``references_records``, ``sequence``...)
and a function for its SQL form, never for a built-in name: a plugin type or function
declaring the same capability is treated the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import marshmallow
from helpers import assert_envelope

from trellis.hookspecs import hookimpl
from trellis.metadata.field_types import EQUALITY_OPERATORS, TEXT_OPERATORS, FieldType

ROOT = Path(__file__).parents[2]
PRODUCT_CODE = ("platform", "metadata", "rule_engine")


class AccountRef(FieldType):
    """A plugin reference type: a record id, like a lookup but not called one."""

    name = "acme_account_ref"
    operators = EQUALITY_OPERATORS
    references_records = True
    properties = {
        "target": {"type": "string"},
        "on_delete": {"enum": ["restrict", "set_null", "cascade"], "default": "set_null"},
    }
    required_properties = ("target",)

    def marshmallow_field(self, field: dict) -> marshmallow.fields.Field:
        return marshmallow.fields.String(allow_none=True)

    def formula_type(self, field: dict) -> str:
        return "text"


class TicketNumber(FieldType):
    """A plugin sequence type: T-1, T-2... assigned by Trellis, stored, usable as the name."""

    name = "acme_ticket_number"
    operators = TEXT_OPERATORS
    computed = True
    sequence = True
    usable_as_name = True

    def marshmallow_field(self, field: dict) -> marshmallow.fields.Field:
        return marshmallow.fields.Raw(allow_none=True, validate=lambda value: value is None)

    def format_sequence(self, field: dict, number: int) -> str:
        return f"T-{number}"

    def formula_type(self, field: dict) -> str:
        return "text"


class CapabilityPlugin:
    @hookimpl
    def register_field_types(self, registry: Any) -> None:
        registry.register(AccountRef())
        registry.register(TicketNumber())

    @hookimpl
    def register_formula_functions(self, registry: Any) -> None:
        @registry.function(
            "ACME_DOUBLE",
            args=["number"],
            returns="number",
            sql=lambda compiler, node, arguments: arguments[0] * 2,
        )
        def double(value: Any) -> Any:
            return value * 2

        @registry.function("ACME_TRIPLE", args=["number"], returns="number")
        def triple(value: Any) -> Any:
            return value * 3


def _client(make_app: Any, tenant: Any) -> tuple[Any, dict]:
    return make_app(plugins=[CapabilityPlugin()]).test_client(), tenant.headers()


def test_a_plugin_reference_type_is_followed_by_formula_paths(make_app, tenant) -> None:
    client, headers = _client(make_app, tenant)
    objects = [
        {
            "api_name": "Account",
            "label": "Account",
            "fields": [{"api_name": "Name", "type": "text"}],
        },
        {
            "api_name": "Deal",
            "label": "Deal",
            "fields": [
                {"api_name": "Name", "type": "text"},
                {"api_name": "Account", "type": "acme_account_ref", "target": "account"},
                {
                    "api_name": "Account_Name",
                    "type": "formula",
                    "expression": "Account.Name",
                    "return_type": "text",
                },
            ],
        },
    ]
    for definition in objects:
        created = client.post("/api/v1/meta/objects", headers=headers, json=definition)
        assert created.status_code == 201, created.get_json()
    # The target is checked and normalised like a lookup's.
    deal = client.get("/api/v1/meta/objects/Deal", headers=headers).get_json()
    assert {f["api_name"]: f for f in deal["fields"]}["Account"]["target"] == "Account"
    acme = client.post("/api/v1/objects/Account/records", headers=headers, json={"Name": "Acme"})
    account_id = acme.get_json()["id"]
    made = client.post(
        "/api/v1/objects/Deal/records",
        headers=headers,
        json={"Name": "Big", "Account": account_id},
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["Account_Name"] == "Acme"
    # A reference to no record is refused, as for a lookup.
    nowhere = client.post(
        "/api/v1/objects/Deal/records",
        headers=headers,
        json={"Name": "Lost", "Account": "00000000-0000-0000-0000-000000000000"},
    )
    assert_envelope(nowhere, 422)
    found = client.get(
        "/api/v1/objects/Deal/records",
        headers=headers,
        query_string={"where": 'Account.Name = "Acme"'},
    )
    assert [row["Name"] for row in found.get_json()["data"]] == ["Big"]


def test_a_plugin_sequence_type_is_assigned_stored_and_filtered(make_app, tenant) -> None:
    client, headers = _client(make_app, tenant)
    created = client.post(
        "/api/v1/meta/objects",
        headers=headers,
        json={
            "api_name": "Ticket",
            "label": "Ticket",
            "name_field": "Number",
            "fields": [
                {"api_name": "Number", "type": "acme_ticket_number"},
                {"api_name": "Subject", "type": "text"},
            ],
        },
    )
    assert created.status_code == 201, created.get_json()
    numbers = [
        client.post(
            "/api/v1/objects/Ticket/records", headers=headers, json={"Subject": subject}
        ).get_json()["Number"]
        for subject in ("first", "second")
    ]
    assert numbers == ["T-1", "T-2"]
    listed = client.get("/api/v1/objects/Ticket/records?Number=T-2", headers=headers).get_json()
    assert [row["Subject"] for row in listed["data"]] == ["second"]


def test_a_plugin_function_with_a_sql_form_runs_in_where_filters(make_app, tenant) -> None:
    client, headers = _client(make_app, tenant)
    created = client.post(
        "/api/v1/meta/objects",
        headers=headers,
        json={
            "api_name": "Order",
            "label": "Order",
            "fields": [
                {"api_name": "Name", "type": "text"},
                {"api_name": "Amount", "type": "number"},
            ],
        },
    )
    assert created.status_code == 201, created.get_json()
    for name, amount in (("small", 4), ("large", 6)):
        client.post(
            "/api/v1/objects/Order/records", headers=headers, json={"Name": name, "Amount": amount}
        )
    url = "/api/v1/objects/Order/records"
    found = client.get(url, headers=headers, query_string={"where": "ACME_DOUBLE(Amount) > 10"})
    assert found.status_code == 200, found.get_json()
    assert [row["Name"] for row in found.get_json()["data"]] == ["large"]
    # A function without a SQL form is refused in SQL, naming itself.
    refused = client.get(url, headers=headers, query_string={"where": "ACME_TRIPLE(Amount) > 10"})
    body = assert_envelope(refused, 400, "bad_where")
    assert "ACME_TRIPLE" in body["errors"]["where"][0]


BUILTIN_TYPE_NAMES = (
    "text|long_text|rich_text|email|phone|url|number|integer|currency|percent|checkbox"
    "|date|datetime|time|picklist|multi_picklist|lookup|auto_number|formula|rollup"
)
# ``field.type.name == "lookup"``, ``field["type"] in {"text", ...}``, ``.get("type") != ...``
NAME_TEST = re.compile(
    r"""(?:type\.name|\[["']type["']\]|\.get\(["']type["']\))\s*"""
    r"""(?:==|!=|\bnot\s+in\b|\bin\b)\s*[\(\[\{]?\s*["'](""" + BUILTIN_TYPE_NAMES + r""")["']"""
)


def test_core_code_does_not_test_for_built_in_field_type_names() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in PRODUCT_CODE
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if NAME_TEST.search(line)
    ]
    assert offenders == [], "ask the field type for a capability instead"


def test_the_name_test_pattern_catches_what_it_should() -> None:
    assert NAME_TEST.search('if field.type.name == "lookup":')
    assert NAME_TEST.search("if field_type.name != 'auto_number'")
    assert NAME_TEST.search('if field["type"] in {"text", "auto_number"}:')
    assert NAME_TEST.search('if field.get("type") != "rollup"')
    assert not NAME_TEST.search('if action["type"] == "wait":')
    assert not NAME_TEST.search('compile(obj, source, expected_type="checkbox")')


def test_built_in_functions_carry_their_sql_forms_on_their_definitions() -> None:
    from trellis.rule_engine.functions import builtin_registry

    registry = builtin_registry()
    in_sql = "IF CASE ISBLANK ISNULL BLANKVALUE ISPICKVAL INCLUDES LEFT TEXT ROUND MAX ADDMONTHS"
    assert [name for name in in_sql.split() if registry.get(name).sql is None] == []
    assert [name for name in registry if registry.get(name).sql_equality] == ["ISPICKVAL"]


class Stars(FieldType):
    """A plugin type edited with the built-in number widget."""

    name = "acme_stars"
    sql_type = "numeric"
    widget = "number"

    def marshmallow_field(self, field: dict) -> marshmallow.fields.Field:
        return marshmallow.fields.Integer(allow_none=True)


class Mood(FieldType):
    """A plugin type whose values are picked from a list of its own: the picklist widget."""

    name = "acme_mood"
    widget = "picklist"

    def marshmallow_field(self, field: dict) -> marshmallow.fields.Field:
        return marshmallow.fields.String(
            allow_none=True, validate=marshmallow.validate.OneOf(["calm", "keen"])
        )

    def choices(self, field: dict) -> list[dict[str, Any]]:
        return [
            {"value": "calm", "label": "Calm", "active": True},
            {"value": "keen", "label": "Keen", "active": True},
        ]


class WidgetPlugin:
    @hookimpl
    def register_field_types(self, registry: Any) -> None:
        registry.register(Stars())
        registry.register(Mood())


def _review_client(make_app: Any, tenant: Any) -> Any:
    """A client of an app with the widget plugin, and a Review object of its types."""
    client = make_app(plugins=[WidgetPlugin()]).test_client()
    definition = {
        "api_name": "Review",
        "label": "Review",
        "fields": [
            {"api_name": "Name", "type": "text"},
            {"api_name": "Stars", "type": "acme_stars"},
            {"api_name": "Mood", "type": "acme_mood"},
        ],
    }
    created = client.post("/api/v1/meta/objects", headers=tenant.headers(), json=definition)
    assert created.status_code == 201, created.get_json()
    return client


def test_plugin_types_are_edited_with_the_built_in_widgets_they_name(make_app, tenant) -> None:
    from helpers import csrf_token, login

    client = _review_client(make_app, tenant)
    login(client, tenant)
    page = client.get("/o/Review/new").get_data(as_text=True)
    assert re.search(r'<input type="number" id="field-Stars" name="Stars"[^>]* step="1"', page)
    assert re.search(r'<select id="field-Mood" name="Mood"', page)
    assert '<option value="keen">Keen</option>' in page
    saved = client.post(
        "/o/Review/new",
        data={"csrf_token": csrf_token(page), "Name": "Fine", "Stars": "4", "Mood": "keen"},
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    record_id = saved.headers["Location"].rsplit("/", 1)[1]
    record = client.get(f"/api/v1/objects/Review/records/{record_id}", headers=tenant.headers())
    assert (record.get_json()["Stars"], record.get_json()["Mood"]) == (4, "keen")


def test_plugin_types_are_edited_in_place_with_the_same_widgets(make_app, tenant) -> None:
    from helpers import csrf_token, login

    client = _review_client(make_app, tenant)
    made = client.post(
        "/api/v1/objects/Review/records",
        headers=tenant.headers(),
        json={"Name": "Fine", "Stars": 3, "Mood": "calm"},
    )
    record_id = made.get_json()["id"]
    login(client, tenant)
    fragment = {"X-Trellis-Fragment": "field"}
    stars = client.get(f"/o/Review/{record_id}/fields/Stars/edit", headers=fragment)
    assert stars.status_code == 200
    assert re.search(
        r'<input type="number" id="inline-Stars" name="Stars"[^>]* value="3" step="1"',
        stars.get_data(as_text=True),
    )
    mood = client.get(f"/o/Review/{record_id}/fields/Mood/edit", headers=fragment)
    assert re.search(r'<select id="inline-Mood" name="Mood"', mood.get_data(as_text=True))
    assert '<option value="calm" selected>Calm</option>' in mood.get_data(as_text=True)
    page = client.get(f"/o/Review/{record_id}").get_data(as_text=True)
    assert '<span class="badge">Calm</span>' in page  # shown by its label
    form = mood.get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form)
    assert version is not None
    saved = client.post(
        f"/o/Review/{record_id}/fields/Mood",
        data={"csrf_token": csrf_token(form), "version": version.group(1), "Mood": "keen"},
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    record = client.get(f"/api/v1/objects/Review/records/{record_id}", headers=tenant.headers())
    assert record.get_json()["Mood"] == "keen"

"""Field values as the screens show them (record pages, related lists, history, read-only
form fields, a stale save's changes): by what the field type says of itself, escaped,
choices by their labels, numbers to their scale, lookups by name, and a related record
the reader may not read said to be restricted, never named."""

from __future__ import annotations

from typing import Any

import marshmallow
from conftest import TenantFixture

from trellis.metadata.compiled import CompiledField
from trellis.metadata.field_types import FieldType
from trellis.views.field_values import (
    EMPTY,
    RESTRICTED,
    displayer,
    is_numeric,
    named,
    plain,
    show,
)

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "fields": [{"api_name": "Name", "type": "text", "required": True}],
}
DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Notes", "type": "long_text"},
        {"api_name": "Body", "type": "rich_text"},
        {"api_name": "Amount", "type": "currency"},
        {"api_name": "Seats", "type": "number", "scale": 0},
        {"api_name": "Rate", "type": "number"},
        {"api_name": "Share", "type": "percent", "scale": 1},
        {"api_name": "Won", "type": "checkbox"},
        {"api_name": "CloseDate", "type": "date"},
        {"api_name": "Stage", "type": "picklist", "values": ["New", "Won"]},
        {"api_name": "Tags", "type": "multi_picklist", "values": ["a", "b"]},
        {
            "api_name": "Size",
            "type": "picklist",
            "values": [
                {"value": "S", "label": "Small & light"},
                {"value": "L", "label": "Large", "active": False},
            ],
        },
        {"api_name": "Price", "type": "currency", "scale": 0},
        {"api_name": "Opens", "type": "time"},
        {"api_name": "Seen", "type": "datetime"},
        {"api_name": "Code", "type": "auto_number", "format": "D-{000}"},
        {"api_name": "Email", "type": "email"},
        {"api_name": "Phone", "type": "phone"},
        {"api_name": "Site", "type": "url"},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
        {
            "api_name": "Double",
            "type": "formula",
            "return_type": "currency",
            "expression": "Amount * 2",
        },
    ],
}


def _shown(tenant: TenantFixture) -> Any:
    for definition in (ACCOUNT, DEAL):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        schema = state.metadata_cache.get(connection, tenant.id)
    deal = schema.object("Deal")
    return lambda name, value: str(show(schema, deal.field(name), value)), schema, deal


def test_values_show_by_type_and_escaped(tenant: TenantFixture) -> None:
    shown, schema, deal = _shown(tenant)
    assert shown("Name", "<b>Acme</b>") == "&lt;b&gt;Acme&lt;/b&gt;"
    assert shown("Name", None) == str(EMPTY) == shown("Tags", [])
    assert shown("Amount", 1234567.5) == '<span class="value-number">1,234,567.50</span>'
    assert shown("Seats", 12) == '<span class="value-number">12</span>'
    assert shown("Rate", 1.250) == '<span class="value-number">1.25</span>'
    assert shown("Share", 12.5) == '<span class="value-number">12.5%</span>'
    assert shown("Double", 10) == '<span class="value-number">10.00</span>'  # by return type
    assert "Yes" in shown("Won", True) and "No" in shown("Won", False)
    assert shown("CloseDate", "2025-03-12") == '<time datetime="2025-03-12">12 Mar 2025</time>'
    assert shown("Stage", "Won") == '<span class="badge">Won</span>'
    assert shown("Tags", ["a", "b"]).count("badge") == 2
    assert shown("Email", "a@b.test") == '<a href="mailto:a@b.test">a@b.test</a>'
    assert 'href="tel:+4412"' in shown("Phone", "+44 (1) 2")
    assert shown("Site", "javascript:alert(1)") == "javascript:alert(1)"  # never a link
    assert 'href="https://acme.test"' in shown("Site", "https://acme.test")
    body = shown("Body", '<p onclick="x()">Hi<script>alert(1)</script></p>')
    assert body == '<div class="value-rich"><p>Hi</p></div>'
    # A stored value older than its field's type still shows, as text.
    assert shown("CloseDate", "soon") == "soon"
    assert plain(schema, deal.field("Amount"), 5) == "5.00"


def test_lookups_show_the_related_name_or_that_it_is_restricted(tenant: TenantFixture) -> None:
    shown, _, _ = _shown(tenant)
    named = shown("Account", {"id": "a1", "Name": "Acme & Co"})
    assert named == '<a href="/o/Account/a1">Acme &amp; Co</a>'
    assert shown("Account", {"id": "a1"}) == str(RESTRICTED)
    assert shown("Account", {"id": "a1", "Name": None}) == '<a href="/o/Account/a1">Untitled</a>'
    assert shown("Account", "a1") == '<a href="/o/Account/a1">a1</a>'


def test_choices_show_by_label_numbers_by_scale_and_times_without_zero_seconds(
    tenant: TenantFixture,
) -> None:
    shown, _, deal = _shown(tenant)
    # A picklist's label (escaped), an inactive value's too; a value no longer listed as is.
    assert shown("Size", "S") == '<span class="badge">Small &amp; light</span>'
    assert shown("Size", "L") == '<span class="badge">Large</span>'
    assert shown("Size", "XL") == '<span class="badge">XL</span>'
    # Money has cents unless its scale says otherwise; other numbers as many as they have.
    assert shown("Price", 1234.5) == '<span class="value-number">1,235</span>'
    assert shown("Amount", 80) == '<span class="value-number">80.00</span>'
    assert shown("Rate", 0.125) == '<span class="value-number">0.125</span>'
    assert shown("Rate", 1e-05) == '<span class="value-number">0.00001</span>'
    assert shown("Share", 25) == '<span class="value-number">25.0%</span>'
    assert [is_numeric(deal.field(name)) for name in ("Amount", "Double", "Stage")] == [
        True,
        True,
        False,
    ]
    assert shown("Opens", "09:30:00") == '<time datetime="09:30:00">09:30</time>'
    assert shown("Opens", "09:30:15") == '<time datetime="09:30:15">09:30:15</time>'
    assert shown("Seen", "2020-01-31T10:05:00+01:00") == (
        '<time datetime="2020-01-31T09:05:00+00:00" title="2020-01-31 09:05 UTC">'
        "31 Jan 2020, 09:05 UTC</time>"
    )
    assert shown("Code", "D-001") == "D-001"
    assert shown("Rate", True) == "True"  # not a number: as text, never an error


def test_a_column_remembers_each_value_by_its_type(tenant: TenantFixture) -> None:
    """A displayer shows a column of values and works each distinct one out once; equal
    values of different types (``True`` and ``1``) are not mixed up."""
    _, schema, deal = _shown(tenant)
    rate = displayer(schema, deal.field("Rate"))
    assert [rate(value) for value in (True, 1, True, 1.0, "2")] == [
        "True",
        '<span class="value-number">1</span>',
        "True",
        '<span class="value-number">1</span>',
        '<span class="value-number">2</span>',
    ]
    stage = displayer(schema, deal.field("Tags"))
    assert stage(["a"]) == stage(["a"]) == '<span class="badge">a</span>'  # lists: unremembered


def test_a_lookup_known_by_id_and_a_name_shows_as_the_expansion_would(
    tenant: TenantFixture,
) -> None:
    # How the forms show a lookup: its id, and the name read separately (None when the
    # reader may not read the record).
    shown, schema, deal = _shown(tenant)
    account = deal.field("Account")
    assert named(schema, account, "a1", "Acme") == {"id": "a1", "Name": "Acme"}
    assert shown("Account", named(schema, account, "a1", "Acme")) == (
        '<a href="/o/Account/a1">Acme</a>'
    )
    assert shown("Account", named(schema, account, "a1", None)) == str(RESTRICTED)
    assert shown("Account", named(schema, account, None, None)) == str(EMPTY)


class Stars(FieldType):
    """A plugin type edited with the number widget."""

    name = "acme_stars"
    widget = "number"


class Mood(FieldType):
    """A plugin type whose values are chosen from a list of its own."""

    name = "acme_mood"

    def choices(self, field: dict) -> list[dict[str, Any]]:
        return [{"value": "keen", "label": "Keen", "active": True}]


class AccountRef(FieldType):
    """A plugin type whose values are ids of records, like a lookup but not called one."""

    name = "acme_account_ref"
    references_records = True

    def marshmallow_field(self, field: dict) -> marshmallow.fields.Field:
        return marshmallow.fields.String(allow_none=True)


class Deadline(FieldType):
    """A plugin type with no widget: the formula engine sees a date, so it shows as one."""

    name = "acme_deadline"

    def formula_type(self, field: dict) -> str:
        return "date"


def test_plugin_types_show_by_their_capabilities(tenant: TenantFixture) -> None:
    _, schema, _ = _shown(tenant)

    def plugin(field_type: FieldType, value: Any, **definition: Any) -> str:
        field = CompiledField("Field", {"api_name": "Field", **definition}, field_type, str)
        return str(show(schema, field, value))

    assert plugin(Stars(), 4) == '<span class="value-number">4</span>'
    assert plugin(Mood(), "keen") == '<span class="badge">Keen</span>'
    linked = plugin(AccountRef(), {"id": "a1", "Name": "Acme"}, target="Account")
    assert linked == '<a href="/o/Account/a1">Acme</a>'
    assert plugin(Deadline(), "2020-03-12") == '<time datetime="2020-03-12">12 Mar 2020</time>'

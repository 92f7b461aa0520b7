"""Field values as the screens show them: by type, escaped, lookups by name, and a
related record the reader may not read said to be restricted, never named."""

from __future__ import annotations

from typing import Any

from conftest import TenantFixture

from trellis.views.field_values import EMPTY, RESTRICTED, plain, show

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
    assert "<p>Hi</p>" in body and "script" not in body and "onclick" not in body
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

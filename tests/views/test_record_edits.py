"""Editing one field in place on the record page, without a browser: the editor is the
record form's widget for the field (same markup, ids starting ``inline-``), the value is
read as the form reads it, an error comes back under the field with what the user sent,
and what the user may not edit cannot be edited here either."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import TenantFixture
from form_worlds import FormWorld, build_form_world, signed_in
from helpers import csrf_token

FRAGMENT = {"X-Trellis-Fragment": "field"}
EDITED = (
    *("Name", "Notes", "Body", "Email", "Phone", "Site", "Units", "Price", "Share"),
    *("Launch", "Seen", "Opens", "Active", "Stage", "Colors", "Maker"),
)


@pytest.fixture()
def world(tenant: TenantFixture) -> FormWorld:
    return build_form_world(tenant)


def full_gadget(world: FormWorld) -> str:
    return world.gadget(
        Name="Complete",
        Notes="two\nlines",
        Body="<p>Rich <b>text</b></p>",
        Email="ada@example.com",
        Phone="+44 20 7946 0000",
        Site="https://example.com",
        Units=3,
        Price=2.5,
        Share=12.5,
        Launch="2026-03-01",
        Seen="2026-03-01T09:30:00Z",
        Opens="08:15:00",
        Active=True,
        Stage="Built",
        Colors=["Red", "Blue"],
        Maker=world.makers["Globex"],
    )


def control(page: str, control_id: str) -> str:
    """The opening tag of the control with ``control_id`` (a select with its options)."""
    found = re.search(rf'<(input|select|textarea|fieldset)\b[^>]*\bid="{control_id}"[^>]*>', page)
    assert found is not None, control_id
    if found.group(1) == "select":
        return page[found.start() : page.index("</select>", found.start())]
    return found.group(0)


def editor(client: Any, record_id: str, name: str) -> str:
    response = client.get(f"/o/Gadget/{record_id}/fields/{name}/edit", headers=FRAGMENT)
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_data(as_text=True))


def save(client: Any, record_id: str, name: str, values: dict[str, Any], **headers: str) -> Any:
    """Post the field's form as the page has it (its token and the version it shows)."""
    page = client.get(f"/o/Gadget/{record_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    data = {"csrf_token": csrf_token(page), "version": version.group(1), **values}
    return client.post(f"/o/Gadget/{record_id}/fields/{name}", data=data, headers=headers)


def test_each_field_is_edited_in_place_with_the_form_s_own_widget(world: FormWorld) -> None:
    record_id = full_gadget(world)
    client = signed_in(world)
    form = client.get(f"/o/Gadget/{record_id}/edit").get_data(as_text=True)
    for name in EDITED:
        inline = editor(client, record_id, name)
        # The same control as the form's, holding the same value; only its id differs.
        same = control(inline, f"inline-{name}").replace("inline-", "field-")
        assert same == control(form, f"field-{name}"), name
        assert "data-inline-form data-escape-cancels" in inline
    # Each is named by its own label, as on the form.
    units = editor(client, record_id, "Units")
    assert '<label class="form-label" id="inline-Units-label" for="inline-Units">Units' in units
    colors = editor(client, record_id, "Colors")
    assert '<legend class="form-label" id="inline-Colors-label">Colors' in colors
    active = editor(client, record_id, "Active")
    assert '<label id="inline-Active-label" for="inline-Active">Active' in active
    # A lookup is edited in place too: by the records the user may pick, by name, and the
    # type-ahead's address.
    maker = editor(client, record_id, "Maker")
    assert 'data-lookup data-lookup-url="/o/Gadget/lookup/Maker"' in maker
    assert f'<option value="{world.makers["Globex"]}" selected>Globex</option>' in maker
    page = client.get(f"/o/Gadget/{record_id}").get_data(as_text=True)
    assert f'data-inline-edit="/o/Gadget/{record_id}/fields/Maker/edit"' in page
    # Opened as a page (no script): the record page with that one field's form open.
    opened = client.get(f"/o/Gadget/{record_id}/fields/Units/edit").get_data(as_text=True)
    assert "<h1>Complete</h1>" in opened and opened.count("data-inline-form") == 1
    assert control(opened, "inline-Units") == control(units, "inline-Units")
    assert "inline_input" not in page


@pytest.mark.parametrize(
    ("name", "sent", "stored"),
    [
        ("Units", {"Units": "7"}, 7),
        ("Active", {}, False),  # an unticked box sends nothing
        ("Colors", {"Colors": ["Green", ""]}, ["Green"]),
        ("Seen", {"Seen": "2026-04-01T10:00"}, "2026-04-01T10:00:00Z"),  # no zone: UTC
        ("Seen", {"Seen": "2026-04-01T10:00:00.000+02:00"}, "2026-04-01T08:00:00Z"),
        ("Notes", {"Notes": "one\r\ntwo"}, "one\ntwo"),
        ("Email", {"Email": "  "}, None),
    ],
)
def test_a_field_saved_in_place_is_read_as_the_form_reads_it(
    world: FormWorld, name: str, sent: dict[str, Any], stored: Any
) -> None:
    record_id = full_gadget(world)
    client = signed_in(world)
    response = save(client, record_id, name, sent, **FRAGMENT)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "data-record" in response.get_data(as_text=True)  # the page anew
    assert world.read(record_id)[name] == stored


def test_a_lookup_saved_in_place_links_the_new_record(world: FormWorld) -> None:
    record_id = full_gadget(world)
    client = signed_in(world)
    acme = world.makers["Acme Works"]
    response = save(client, record_id, "Maker", {"Maker": acme})
    assert response.status_code == 303
    assert world.read(record_id)["Maker"] == acme
    page = client.get(f"/o/Gadget/{record_id}").get_data(as_text=True)
    assert f'<a href="/o/Maker/{acme}">Acme Works</a>' in page


def test_a_refused_value_comes_back_under_the_field_as_typed(world: FormWorld) -> None:
    record_id = full_gadget(world)
    client = signed_in(world)
    response = save(client, record_id, "Price", {"Price": "-5"}, **FRAGMENT)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    price = control(fragment, "inline-Price")
    assert 'value="-5"' in price and 'aria-invalid="true"' in price
    assert 'aria-describedby="inline-Price-error"' in price
    error = '<p class="field-error" id="inline-Price-error">The price cannot be negative.</p>'
    assert error in fragment
    # Without script, the page with the form open, the value as typed and the error.
    page = save(client, record_id, "Units", {"Units": "many"})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert 'value="many"' in control(text, "inline-Units")
    assert 'id="inline-Units-error"' in text
    saved = world.read(record_id)
    assert (saved["Price"], saved["Units"], saved["version"]) == (2.5, 3, 1)


def test_what_the_user_may_not_edit_is_not_edited_in_place(world: FormWorld) -> None:
    record_id = world.gadget(Name="Guarded", Stage="Idea", Audited="checked", Secret="s")
    rep = signed_in(world, "rep")
    page = rep.get(f"/o/Gadget/{record_id}").get_data(as_text=True)
    assert "/fields/Audited/edit" not in page and "/fields/Total/edit" not in page
    for name in ("Audited", "Secret", "Total", "Code"):
        assert rep.get(f"/o/Gadget/{record_id}/fields/{name}/edit").status_code == 403, name
        assert save(rep, record_id, name, {name: "x"}).status_code == 403, name
    saved = world.read(record_id)
    assert (saved["Audited"], saved["Secret"]) == ("checked", "s")

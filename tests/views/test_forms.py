"""The record forms without a browser: what a submitted form saves for each field type,
the conditions endpoint, errors next to their fields, rights, field-level security,
the lookup search and a save against an older version."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import TenantFixture
from form_worlds import FormWorld, build_form_world, signed_in
from helpers import csrf_token
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from trellis.metadata.compiled import CompiledField
from trellis.metadata.field_types import FieldType
from trellis.views.widgets import WIDGETS, input_value, read_input, record_value, widget_for


@pytest.fixture()
def world(tenant: TenantFixture) -> FormWorld:
    return build_form_world(tenant)


def words(html: str) -> str:
    """What a piece of a page says: its text without markup, one space apart."""
    return " ".join(Markup(html).striptags().split())


def post_form(client: Any, path: str, values: dict[str, Any], **extra: Any) -> Any:
    """Open the form at ``path`` and submit ``values`` (plus its hidden fields)."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="(_\w+)" value="([^"]*)"', text))
    data = {"csrf_token": csrf_token(text), **hidden, **values, **extra}
    return client.post(path, data=data)


def test_a_form_saves_every_field_type_as_the_api_stores_it(world: FormWorld) -> None:
    client = signed_in(world)
    response = post_form(
        client,
        "/o/Gadget/new",
        {
            "Name": "  Widget  ",
            "Notes": "line one\r\nline two",
            "Body": '<p>Hello <b>there</b></p><script>alert("x")</script>',
            "Email": "ada@example.com",
            "Phone": "+44 20 7946 0000",
            "Site": "https://example.com/widget",
            "Units": "12",
            "Price": "1234.5",
            "Share": "12.25",
            "Launch": "2026-03-01",
            "Seen": "2026-03-01T09:30",
            "Opens": "08:15",
            "Stage": "Built",
            "Colors": ["Red", "Blue"],
            "Maker": world.makers["Globex"],
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    record_id = response.headers["Location"].rsplit("/", 1)[1]
    assert response.headers["Location"] == f"/o/Gadget/{record_id}"
    saved = world.read(record_id)
    expected = {
        "Name": "Widget",
        "Notes": "line one\nline two",
        "Body": "<p>Hello <b>there</b></p>",
        "Email": "ada@example.com",
        "Phone": "+44 20 7946 0000",
        "Site": "https://example.com/widget",
        "Units": 12,
        "Price": 1234.5,
        "Share": 12.3,
        "Launch": "2026-03-01",
        "Seen": "2026-03-01T09:30:00Z",
        "Opens": "08:15:00",
        "Stage": "Built",
        "Colors": ["Red", "Blue"],
        "Maker": world.makers["Globex"],
    }
    assert {name: saved[name] for name in expected} == expected
    assert saved["Code"] == "G-001"
    # An unticked checkbox sends nothing: false, not its default.
    assert saved["Active"] is False
    assert saved["Total"] == 14814


def test_a_date_and_time_with_an_offset_is_saved_in_utc(world: FormWorld) -> None:
    client = signed_in(world)
    response = post_form(
        client,
        "/o/Gadget/new",
        {"Name": "Timed", "Stage": "Idea", "Seen": "2026-03-01T10:30:00.000+01:00"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    saved = world.read(response.headers["Location"].rsplit("/", 1)[1])
    assert saved["Seen"] == "2026-03-01T09:30:00Z"
    assert saved["Active"] is False


def test_defaults_and_the_query_string_fill_a_new_form(world: FormWorld) -> None:
    client = signed_in(world)
    maker = world.makers["Acme Labs"]
    page = client.get(f"/o/Gadget/new?maker={maker}&Units=7&Secret=x&Total=3").get_data(
        as_text=True
    )
    assert re.search(r'<input type="checkbox" id="field-Active"[^>]* checked>', page)
    assert re.search(r'<option value="Idea" selected>Idea</option>', page)
    assert re.search(rf'<option value="{maker}" selected>Acme Labs</option>', page)
    assert re.search(r'id="field-Units"[^>]* value="7"', page)
    # Computed fields take no value; they say when they will have one.
    assert "Calculated when saved" in page and "Assigned when saved" in page


def invalid_control(page: str, name: str, message: str) -> None:
    """The field's control is marked invalid and described by its error message."""
    control = re.search(rf'<input type="\w+" id="field-{name}"[^>]*>', page)
    assert control is not None, name
    assert 'aria-invalid="true"' in control.group(0)
    assert f'aria-describedby="field-{name}-error"' in control.group(0)
    assert re.search(rf'<p class="field-error" id="field-{name}-error">{re.escape(message)}', page)


def error_summary(page: str) -> str:
    start = page.index("data-error-summary")
    assert 'role="alert"' in page[page.rindex("<div", 0, start) : start]
    return page[start : page.index("</ul>", start)]


def test_errors_show_next_to_their_fields_and_in_a_summary_keeping_the_input(
    world: FormWorld,
) -> None:
    client = signed_in(world)
    values = {"Name": "test", "Stage": "Idea", "Price": "-5", "Notes": "keep me"}
    # Values that do not fit their type are refused first, as the API does.
    response = post_form(client, "/o/Gadget/new", {**values, "Email": "not an address"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = "Enter a valid email address, e.g. name@example.com."
    invalid_control(page, "Email", message)
    assert f'<a href="#field-Email">Email: {message}</a>' in error_summary(page)
    assert 'value="not an address"' in page and ">keep me</textarea>" in page
    # Then the validation rules: one on a field, one on the record (in the summary only).
    response = post_form(client, "/o/Gadget/new", {**values, "Email": "ada@example.com"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    invalid_control(page, "Price", "The price cannot be negative.")
    summary = error_summary(page)
    assert '<a href="#field-Price">Price: The price cannot be negative.</a>' in summary
    assert "<li>Give it a real name.</li>" in summary
    assert 'value="-5"' in page and 'value="ada@example.com"' in page
    assert world.gadgets() == []


def test_a_required_field_left_blank_is_refused_with_its_label(world: FormWorld) -> None:
    client = signed_in(world)
    response = post_form(client, "/o/Gadget/new", {"Name": "", "Stage": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<a href="#field-Name">Gadget name: This field is required.</a>' in page
    assert '<a href="#field-Stage">Stage: This field is required.</a>' in page


def test_rich_text_is_sanitised_when_shown_back(world: FormWorld) -> None:
    client = signed_in(world)
    response = post_form(
        client,
        "/o/Gadget/new",
        {"Name": "", "Body": "<p onclick='x()'>Hi</p><script>bad()</script>"},
    )
    page = response.get_data(as_text=True)
    assert "<script>bad()" not in page and "onclick" not in page
    assert "<template data-rich-text-initial><p>Hi</p></template>" in page


def conditions(client: Any, path: str, values: dict[str, Any]) -> Any:
    token = csrf_token(client.get(path.removesuffix("/conditions")).get_data(as_text=True))
    return client.post(
        path, data=values, headers={"X-CSRF-Token": token, "Accept": "application/json"}
    )


def test_the_conditions_endpoint_answers_from_the_fields_formulas(world: FormWorld) -> None:
    client = signed_in(world, "rep")
    retired = conditions(client, "/o/Gadget/new/conditions", {"Name": "x", "Stage": "Retired"})
    assert retired.status_code == 200
    fields = retired.get_json()["fields"]
    assert fields["RetiredWhy"] == {"visible": True, "required": True, "read_only": False}
    # Read-only judges what is saved... and a new record is what is typed.
    assert fields["Serial"]["read_only"] is True
    idea = conditions(client, "/o/Gadget/new/conditions", {"Stage": "Idea"}).get_json()
    assert idea["fields"]["RetiredWhy"] == {"visible": False, "required": False, "read_only": False}
    record_id = world.gadget(Name="Old", Stage="Retired", RetiredWhy="Obsolete")
    path = f"/o/Gadget/{record_id}/edit/conditions"
    edited = conditions(client, path, {"Stage": "Built"}).get_json()["fields"]
    assert edited["RetiredWhy"]["visible"] is False
    assert edited["Serial"]["read_only"] is True  # as stored: still retired
    without_token = client.post(
        path, data={"Stage": "Built"}, headers={"Accept": "application/json"}
    )
    assert without_token.status_code == 403
    assert without_token.get_json()["code"] == "csrf_failed"


def test_without_script_the_server_applies_conditions_on_submit(world: FormWorld) -> None:
    client = signed_in(world)
    page = client.get("/o/Gadget/new").get_data(as_text=True)
    assert re.search(r'data-field="RetiredWhy" data-conditional hidden>', page)
    refused = post_form(client, "/o/Gadget/new", {"Name": "Done", "Stage": "Retired"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert '<a href="#field-RetiredWhy">Why retired: This field is required.</a>' in page
    assert re.search(r'data-field="RetiredWhy" data-conditional>', page)
    # A value typed into a field its condition hides is not saved.
    saved = post_form(client, "/o/Gadget/new", {"Name": "Kept", "Stage": "Idea", "RetiredWhy": "x"})
    assert saved.status_code == 303
    assert world.gadgets()[0]["RetiredWhy"] is None


def test_rights_decide_who_gets_which_form(world: FormWorld) -> None:
    record_id = world.gadget(Name="Shared", Stage="Idea")
    viewer = signed_in(world, "viewer")
    assert viewer.get("/o/Gadget/new").status_code == 403
    assert viewer.get(f"/o/Gadget/{record_id}/edit").status_code == 403
    token = csrf_token(viewer.get("/").get_data(as_text=True))
    refused = viewer.post(f"/o/Gadget/{record_id}/edit", data={"csrf_token": token, "Name": "x"})
    assert refused.status_code == 403
    assert world.read(record_id)["Name"] == "Shared"
    rep = signed_in(world, "rep")
    # A record the rep may not read is not found, whatever the form.
    hidden_maker = world.makers["Acme Hidden"]
    assert rep.get(f"/o/Maker/{hidden_maker}/edit").status_code == 404
    assert rep.get("/o/Gadget/not-an-id/edit").status_code == 404
    assert rep.get("/o/Nothing/new").status_code == 404
    assert rep.get(f"/o/Gadget/{record_id}/edit").status_code == 200


def test_field_level_security_hides_and_locks_fields(world: FormWorld) -> None:
    record_id = world.gadget(Name="Locked", Stage="Idea", Secret="classified", Audited="checked")
    rep = signed_in(world, "rep")
    page = rep.get(f"/o/Gadget/{record_id}/edit").get_data(as_text=True)
    assert 'data-field="Secret"' not in page and "classified" not in page
    audited = page[page.index('data-field="Audited"') :][:400]
    assert "is-read-only" in page[page.rindex("<div", 0, page.index('data-field="Audited"')) :][:80]
    assert 'name="Audited"' not in page and ">checked</div>" in audited
    # Values for those fields are ignored, not saved and not refused.
    response = post_form(
        rep,
        f"/o/Gadget/{record_id}/edit",
        {"Name": "Locked", "Stage": "Built"},
        Secret="leak",
        Audited="changed",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    saved = world.read(record_id)
    assert (saved["Stage"], saved["Secret"], saved["Audited"]) == ("Built", "classified", "checked")
    states = conditions(rep, f"/o/Gadget/{record_id}/edit/conditions", {}).get_json()["fields"]
    assert "Secret" not in states


def test_the_lookup_search_finds_readable_records_by_name(world: FormWorld) -> None:
    rep = signed_in(world, "rep")
    found = rep.get("/o/Gadget/lookup/Maker?q=acme", headers={"Accept": "application/json"})
    assert found.status_code == 200
    assert [hit["name"] for hit in found.get_json()["data"]] == ["Acme Labs", "Acme Works"]
    assert found.get_json()["more"] is False
    first = rep.get("/o/Gadget/lookup/maker?q=").get_json()["data"]
    assert [hit["name"] for hit in first] == ["Acme Labs", "Acme Works", "Globex"]
    admin = signed_in(world)
    everything = admin.get("/o/Gadget/lookup/Maker?q=ACME").get_json()["data"]
    assert "Acme Hidden" in [hit["name"] for hit in everything]
    assert rep.get("/o/Gadget/lookup/Name?q=a").status_code == 404
    assert rep.get("/o/Gadget/lookup/Secret?q=a").status_code == 404
    assert rep.get("/o/Gadget/lookup/Maker?q=" + "x" * 201).status_code == 400


def test_an_edit_saves_only_what_changed(world: FormWorld) -> None:
    record_id = world.gadget(Name="Before", Stage="Idea", Units=3, Colors=["Red"])
    client = signed_in(world)
    page = client.get(f"/o/Gadget/{record_id}/edit").get_data(as_text=True)
    assert "<h1>Edit Before</h1>" in page
    assert re.search(r'id="field-Units"[^>]* value="3"', page)
    response = post_form(
        client,
        f"/o/Gadget/{record_id}/edit",
        {"Name": "After", "Stage": "Idea", "Units": "3.0", "Colors": ["Red"], "Active": "true"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/o/Gadget/{record_id}"
    history = world.tenant.api("GET", f"/api/v1/objects/Gadget/records/{record_id}/history")
    assert history.get_json()["data"][0]["changes"] == {"Name": ["Before", "After"]}


def test_a_save_against_an_older_version_shows_their_changes_and_keeps_yours(
    world: FormWorld,
) -> None:
    record_id = world.gadget(Name="Shared", Stage="Idea", Units=1, Notes="old notes")
    client = signed_in(world)
    path = f"/o/Gadget/{record_id}/edit"
    page = client.get(path).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="(_\w+)" value="([^"]*)"', page))
    changed = world.tenant.api(
        "PATCH", f"/api/v1/objects/Gadget/records/{record_id}", json={"Units": 5, "Name": "Theirs"}
    )
    assert changed.status_code == 200
    mine = {"Name": "Mine", "Stage": "Idea", "Units": "1", "Notes": "old notes", "Active": "true"}
    response = client.post(path, data={"csrf_token": csrf_token(page), **hidden, **mine})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this record" in page
    assert f'<a href="{path}">Reload</a>' in page
    # Values as the record page shows them (Units is a number), "Kept" by the one kept.
    assert '<td><span class="value-number">5</span> <span class="badge badge-soon">Kept' in page
    rows = re.findall(r'<th scope="row">([^<]+)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>', page)
    listed = {label: (words(theirs), words(yours)) for label, theirs, yours in rows}
    assert listed == {
        "Gadget name": ("Theirs", "Mine Kept"),
        "Units": ("5 Kept", "1"),
    }
    # The form holds my name and their units, and the record's current version.
    assert 'id="field-Name" name="Name" data-control aria-required="true" value="Mine"' in page
    assert re.search(r'id="field-Units"[^>]* value="5"', page)
    assert f'name="_version" value="{world.read(record_id)["version"]}"' in page
    assert world.read(record_id)["Name"] == "Theirs"
    again = post_form(client, path, {**mine, "Units": "5"})
    assert again.status_code == 303
    saved = world.read(record_id)
    assert (saved["Name"], saved["Units"]) == ("Mine", 5)


def test_read_only_fields_and_their_changes_show_values_as_the_record_page_does(
    world: FormWorld,
) -> None:
    globex, hidden = world.makers["Globex"], world.makers["Acme Hidden"]
    record_id = world.gadget(Name="Shown", Stage="Idea", Units=3, Price=2.5, Maker=globex)
    rep = signed_in(world, "rep")
    path = f"/o/Gadget/{record_id}/edit"
    page = rep.get(path).get_data(as_text=True)
    assert '<div class="form-static" id="field-Total"><span class="value-number">7.50</span>' in (
        page
    )
    assert '<div class="form-static" id="field-Code">G-001</div>' in page
    # Meanwhile the gadget moves to a maker the rep may not read, and to another stage.
    changed = world.tenant.api(
        "PATCH",
        f"/api/v1/objects/Gadget/records/{record_id}",
        json={"Maker": hidden, "Stage": "Built"},
    )
    assert changed.status_code == 200
    hidden_inputs = dict(re.findall(r'<input type="hidden" name="(_\w+)" value="([^"]*)"', page))
    mine = {"Name": "Mine", "Stage": "Idea", "Units": "3", "Maker": globex}
    response = rep.post(path, data={"csrf_token": csrf_token(page), **hidden_inputs, **mine})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    cells = r'<th scope="row">([^<]+)</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>'
    rows = {label: (theirs, yours) for label, theirs, yours in re.findall(cells, page)}
    theirs, yours = rows["Maker"]
    assert theirs.startswith('<span class="value-restricted">Restricted record</span>')
    assert yours == f'<a href="/o/Maker/{globex}">Globex</a>'
    assert rows["Stage"][0].startswith('<span class="badge">Built</span>')
    assert "Acme Hidden" not in page


class Rating(FieldType):
    """A plugin type that names a built-in widget."""

    name = "acme_rating"
    widget = "number"


class Deadline(FieldType):
    """A plugin type with no widget: the formula engine sees a date, so it is one."""

    name = "acme_deadline"

    def formula_type(self, field: dict[str, Any]) -> str:
        return "date"


class Mystery(FieldType):
    name = "acme_mystery"


def compiled(field_type: FieldType) -> CompiledField:
    return CompiledField("Field", {"api_name": "Field"}, field_type, lambda value: value)


def test_plugin_types_name_a_built_in_widget_or_get_their_formula_types() -> None:
    assert widget_for(compiled(Rating())) is WIDGETS["number"]
    assert widget_for(compiled(Deadline())) is WIDGETS["date"]
    assert widget_for(compiled(Mystery())) is WIDGETS["text"]


@pytest.mark.parametrize(
    ("widget", "form", "typed", "saved"),
    [
        ("text", {"F": "  a  "}, "  a  ", "  a  "),
        ("text", {"F": "   "}, "   ", None),
        ("text", {}, None, None),
        ("number", {"F": "12.50"}, "12.50", "12.50"),
        ("checkbox", {"F": "true"}, True, True),
        ("checkbox", {}, False, False),
        ("multi_picklist", {"F": ["A", "", "B"]}, ["A", "B"], ["A", "B"]),
        ("multi_picklist", {}, [], None),
        ("datetime", {"F": "2026-03-01T09:30"}, "2026-03-01T09:30", "2026-03-01T09:30Z"),
        ("datetime", {"F": "2026-03-01T09:30:00+01:00"}, None, "2026-03-01T09:30:00+01:00"),
        ("datetime", {"F": "soon"}, "soon", "soon"),
    ],
)
def test_a_widget_reads_what_a_form_sends(widget: str, form: dict, typed: Any, saved: Any) -> None:
    chosen = WIDGETS[widget]
    sent = read_input(chosen, MultiDict(form), "F")
    if typed is not None:
        assert sent == typed
    assert record_value(chosen, sent) == saved


@pytest.mark.parametrize(
    ("widget", "stored", "shown"),
    [
        ("number", 1234.5, "1234.5"),
        ("number", 12, "12"),
        ("number", 0.1, "0.1"),
        ("currency", 1e-05, "0.00001"),
        ("checkbox", True, True),
        ("checkbox", None, False),
        ("multi_picklist", ["A"], ["A"]),
        ("multi_picklist", None, []),
        ("datetime", "2026-03-01T09:30:00Z", "2026-03-01T09:30"),
        ("datetime", "2026-03-01T10:30:15+01:00", "2026-03-01T09:30:15"),
        ("datetime", "later", "later"),
        ("time", "09:30:00", "09:30"),
        ("time", "09:30:15", "09:30:15"),
        ("text", None, ""),
    ],
)
def test_a_widget_shows_a_stored_value_as_its_input_takes_it(
    widget: str, stored: Any, shown: Any
) -> None:
    assert input_value(WIDGETS[widget], stored) == shown


def test_a_form_save_runs_automations_and_writes_history_as_the_api_does(
    world: FormWorld,
) -> None:
    automation = {
        "api_name": "serial",
        "object": "Gadget",
        "trigger": "created",
        "timing": "before_save",
        "actions": [{"type": "update_fields", "values": {"Serial": '"S-" & Name'}}],
    }
    created = world.tenant.api("POST", "/api/v1/meta/automations", json=automation)
    assert created.status_code == 201, created.get_data(as_text=True)
    client = signed_in(world, "rep")
    response = post_form(client, "/o/Gadget/new", {"Name": "Auto", "Stage": "Idea"})
    assert response.status_code == 303, response.get_data(as_text=True)
    record_id = response.headers["Location"].rsplit("/", 1)[1]
    saved = world.read(record_id)
    assert saved["Serial"] == "S-Auto"
    assert saved["owner_id"] == str(world.rep.id)
    history = world.tenant.api("GET", f"/api/v1/objects/Gadget/records/{record_id}/history")
    (entry,) = history.get_json()["data"]
    assert entry["action"] == "created" and entry["actor_id"] == str(world.rep.id)


def test_without_script_many_records_are_picked_by_id(
    world: FormWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three makers are "too many to list" here, as more than a hundred are for real.
    monkeypatch.setattr("trellis.views.form_model.LISTED_RECORDS", 2)
    client = signed_in(world, "rep")
    page = client.get("/o/Gadget/new").get_data(as_text=True)
    assert re.search(r'<input type="text" id="field-Maker" name="Maker"', page)
    assert 'aria-describedby="field-Maker-hint"' in page
    hint = '<p class="hint form-help" id="field-Maker-hint" data-lookup-hint>'
    assert f"{hint}Enter the record's id." in page
    maker = world.makers["Globex"]
    values = {"Name": "By id", "Stage": "Idea", "Maker": maker}
    response = post_form(client, "/o/Gadget/new", values)
    assert response.status_code == 303
    record_id = response.headers["Location"].rsplit("/", 1)[1]
    assert world.read(record_id)["Maker"] == maker
    edit = client.get(f"/o/Gadget/{record_id}/edit").get_data(as_text=True)
    assert f'value="{maker}"' in edit and "Enter the record's id (now Globex)." in edit
    refused = post_form(client, "/o/Gadget/new", {"Name": "Bad", "Stage": "Idea", "Maker": "x"})
    assert refused.status_code == 422
    assert "Maker: Not a record id." in refused.get_data(as_text=True)


def test_a_lookup_to_a_record_the_user_may_not_read_is_kept_as_restricted(
    world: FormWorld,
) -> None:
    hidden = world.makers["Acme Hidden"]
    record_id = world.gadget(Name="Mixed", Stage="Idea", Maker=hidden)
    rep = signed_in(world, "rep")
    page = rep.get(f"/o/Gadget/{record_id}/edit").get_data(as_text=True)
    assert f'<option value="{hidden}" selected>Restricted record</option>' in page
    assert "Acme Hidden" not in page
    response = post_form(
        rep, f"/o/Gadget/{record_id}/edit", {"Name": "Renamed", "Stage": "Idea", "Maker": hidden}
    )
    assert response.status_code == 303
    saved = world.read(record_id)
    assert (saved["Name"], saved["Maker"]) == ("Renamed", hidden)


def test_user_records_are_edited_but_not_created_here(world: FormWorld) -> None:
    admin = signed_in(world)
    assert admin.get("/o/User/new").status_code == 403
    page = admin.get(f"/o/User/{world.rep.id}/edit").get_data(as_text=True)
    # The platform keeps the account's own fields: shown, not editable.
    for name in ("Name", "Email", "Manager", "Active"):
        assert f'data-field="{name}"' in page and f'name="{name}"' not in page

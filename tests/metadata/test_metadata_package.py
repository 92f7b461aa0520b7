"""Metadata as code: exporting and importing packages (service, API and command line)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner
from conftest import TenantFixture
from flask import Flask
from flask.cli import ScriptInfo
from helpers import assert_envelope

from trellis.cli import cli
from trellis.errors import TrellisError, ValidationError
from trellis.identity.tokens import create_token
from trellis.identity.users import create_user
from trellis.metadata.compiled import MetadataCache
from trellis.metadata.package_export import export_package
from trellis.metadata.package_format import dump_package, parse_package
from trellis.metadata.package_import import import_package
from trellis.metadata.service import MetadataService

# Company and Person look each other up (a cycle); Deal depends on both.
PACKAGE: dict[str, Any] = {
    "trellis_package": 1,
    "objects": [
        {
            "api_name": "Deal",
            "label": "Deal",
            "fields": [
                {"api_name": "Name", "type": "text", "required": True},
                {"api_name": "Amount", "type": "currency", "indexed": True},
                {
                    "api_name": "Stage",
                    "type": "picklist",
                    "values": ["Open", "Won", "Lost"],
                    "default": "Open",
                },
                {
                    "api_name": "Company",
                    "type": "lookup",
                    "target": "Company",
                    "on_delete": "restrict",
                },
                {"api_name": "Contact", "type": "lookup", "target": "Person"},
            ],
        },
        {
            "api_name": "Company",
            "label": "Company",
            "plural_label": "Companies",
            "fields": [
                {"api_name": "Name", "type": "text", "required": True, "unique": True},
                {"api_name": "CEO", "type": "lookup", "target": "Person"},
                {"api_name": "Notes", "type": "long_text"},
            ],
        },
        {
            "api_name": "Person",
            "label": "Person",
            "plural_label": "People",
            "fields": [
                {"api_name": "Name", "type": "text", "required": True},
                {
                    "api_name": "Employer",
                    "type": "lookup",
                    "target": "Company",
                    "on_delete": "cascade",
                },
                {"api_name": "Manager", "type": "lookup", "target": "Person"},
            ],
        },
    ],
}


def service_for(
    app: Flask, connection: Any, tenant: TenantFixture, cache: MetadataCache | None = None
) -> MetadataService:
    return MetadataService(
        connection, tenant.actor, cache or app.extensions["trellis"].metadata_cache
    )


def import_into(app: Flask, tenant: TenantFixture, package: Any, **options: Any) -> list[dict]:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return import_package(service_for(app, connection, tenant), package, **options)


def export_from(app: Flask, tenant: TenantFixture) -> dict[str, Any]:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return export_package(service_for(app, connection, tenant))


def counts(app: Flask, tenant: TenantFixture) -> dict[str, int]:
    """Rows of the tenant in every table an import may write."""
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return {
            table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in (
                "metadata_revisions",
                "meta_objects",
                "field_indexes",
                "records",
                "record_history",
            )
        }


def actions(plan: list[dict]) -> dict[str, str]:
    return {item["object"]: item["action"] for item in plan}


def run(app: Flask, *args: str):
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


# -- service -------------------------------------------------------------------------------
def test_round_trip_between_tenants_is_byte_identical(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    plan = import_into(app, tenant, PACKAGE)
    assert actions(plan) == {"Deal": "create", "Company": "create", "Person": "create"}
    assert [item["object"] for item in plan] == ["Deal", "Company", "Person"]
    assert plan[0]["diff"] == [{"change": "object created"}]
    exported = export_from(app, tenant)
    assert [obj["api_name"] for obj in exported["objects"]] == ["Company", "Deal", "Person"]
    for format in ("yaml", "json"):
        text = dump_package(exported, format)
        assert parse_package(text, format) == exported

    text = dump_package(exported, "yaml")
    copied = import_into(app, other_tenant, parse_package(text))
    assert set(actions(copied).values()) == {"create"}
    assert dump_package(export_from(app, other_tenant), "yaml") == text
    assert dump_package(export_from(app, other_tenant), "json") == dump_package(exported, "json")
    # The cycle was broken and closed again: every lookup exists in the end.
    company = next(obj for obj in exported["objects"] if obj["api_name"] == "Company")
    assert [f["api_name"] for f in company["fields"]] == ["Name", "CEO", "Notes"]
    assert company["name_field"] == "Name"


def test_reimport_is_idempotent(app: Flask, tenant: TenantFixture) -> None:
    import_into(app, tenant, PACKAGE)
    before = counts(app, tenant)
    plan = import_into(app, tenant, PACKAGE)
    assert set(actions(plan).values()) == {"unchanged"}
    assert all(item["diff"] == [] for item in plan)
    assert counts(app, tenant) == before
    # Its own export, hidden fields included, imports as unchanged too.
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        service_for(app, connection, tenant).delete_field("Company", "CEO")
    exported = export_from(app, tenant)
    company = next(obj for obj in exported["objects"] if obj["api_name"] == "Company")
    assert "CEO" not in [f["api_name"] for f in company["fields"]]
    before = counts(app, tenant)
    assert set(actions(import_into(app, tenant, exported)).values()) == {"unchanged"}
    assert counts(app, tenant) == before


def test_dry_run_writes_nothing_and_predicts_the_plan(app: Flask, tenant: TenantFixture) -> None:
    before = counts(app, tenant)
    predicted = import_into(app, tenant, PACKAGE, dry_run=True)
    assert set(actions(predicted).values()) == {"create"}
    assert counts(app, tenant) == before
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        assert service_for(app, connection, tenant).schema().objects == {}
    assert import_into(app, tenant, PACKAGE) == predicted

    changed = copy.deepcopy(PACKAGE)
    changed["objects"][0]["fields"].append({"api_name": "Probability", "type": "percent"})
    before = counts(app, tenant)
    plan = import_into(app, tenant, changed, dry_run=True)
    assert actions(plan)["Deal"] == "update"
    assert counts(app, tenant) == before


def test_dry_run_leaves_no_stale_cache_for_other_processes(
    app: Flask, tenant: TenantFixture
) -> None:
    """A rolled-back revision number comes back; the cache must not serve what it held."""
    registry = app.extensions["trellis"].field_types
    this_process, other_process = MetadataCache(registry), MetadataCache(registry)
    database = app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        import_package(
            service_for(app, connection, tenant, this_process),
            {
                "trellis_package": 1,
                "objects": [{"api_name": "Ghost", "label": "Ghost", "fields": []}],
            },
            dry_run=True,
        )
    with database.tenant(tenant.id) as connection:
        service_for(app, connection, tenant, other_process).create_object(
            {"api_name": "Real", "label": "Real", "fields": []}
        )
    with database.tenant(tenant.id) as connection:
        names = set(service_for(app, connection, tenant, this_process).schema().objects)
    assert names == {"real"}


def test_update_shows_the_diff_hides_missing_fields_and_keeps_values(
    app: Flask, tenant: TenantFixture
) -> None:
    import_into(app, tenant, PACKAGE)
    created = tenant.api(
        "POST",
        "/api/v1/objects/Deal/records",
        json={"Name": "Big one", "Amount": 1200, "Stage": "Won"},
    )
    assert created.status_code == 201, created.get_json()
    changed = copy.deepcopy(PACKAGE)
    deal = changed["objects"][0]
    deal["label"] = "Sales deal"
    deal["fields"] = [f for f in deal["fields"] if f["api_name"] != "Stage"]
    deal["fields"][1]["label"] = "Deal size"
    deal["fields"].append({"api_name": "Probability", "type": "percent", "scale": 0})

    plan = import_into(app, tenant, changed, message="Rework deals")
    assert actions(plan) == {"Deal": "update", "Company": "unchanged", "Person": "unchanged"}
    diff = plan[0]["diff"]
    assert diff[0] == {
        "change": "object property",
        "property": "label",
        "old": "Deal",
        "new": "Sales deal",
    }
    assert {"change": "field added", "field": "Probability"} in diff
    assert {
        "change": "field property",
        "field": "Amount",
        "property": "label",
        "old": "Amount",
        "new": "Deal size",
    } in diff
    assert {
        "change": "field property",
        "field": "Stage",
        "property": "deleted",
        "old": None,
        "new": True,
    } in diff

    fields = tenant.api("GET", "/api/v1/meta/objects/Deal").get_json()["fields"]
    stage = next(f for f in fields if f["api_name"] == "Stage")
    assert stage["deleted"] is True  # hidden, not dropped
    revisions = tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"]
    assert revisions[0]["message"] == "Rework deals: update Deal"
    # Showing the field again brings its value back.
    import_into(app, tenant, PACKAGE)
    record = tenant.api("GET", f"/api/v1/objects/Deal/records/{created.get_json()['id']}")
    assert record.get_json()["Stage"] == "Won"


def test_invalid_package_names_object_and_field_and_imports_nothing(
    app: Flask, tenant: TenantFixture
) -> None:
    broken = copy.deepcopy(PACKAGE)
    broken["objects"][0]["fields"][1]["scale"] = 20
    broken["objects"][2]["fields"].append({"api_name": "Shoe", "type": "shoe_size"})
    before = counts(app, tenant)
    with pytest.raises(ValidationError) as raised:
        import_into(app, tenant, broken)
    assert {"Deal.fields.Amount.scale", "Person.fields.Shoe.type"} <= set(raised.value.fields)
    assert all(
        key.startswith(("Deal.fields.Amount", "Person.fields.Shoe")) for key in raised.value.fields
    )
    assert "Deal" in raised.value.message and "Person" in raised.value.message
    assert counts(app, tenant) == before

    response = tenant.api("POST", "/api/v1/meta/package", json=broken)
    body = assert_envelope(response, 422, "validation_error")
    assert "Deal.fields.Amount.scale" in body["errors"]
    assert counts(app, tenant) == before

    missing_target = {
        "trellis_package": 1,
        "objects": [
            {
                "api_name": "Orphan",
                "label": "Orphan",
                "fields": [{"api_name": "Parent", "type": "lookup", "target": "Nowhere"}],
            }
        ],
    }
    with pytest.raises(ValidationError) as raised:
        import_into(app, tenant, missing_target)
    assert raised.value.fields == {"Orphan.fields.Parent.target": ["No object 'Nowhere'."]}


@pytest.mark.parametrize("reverse", [False, True])
def test_roll_ups_and_formulas_across_objects_import_in_any_order(
    app: Flask, tenant: TenantFixture, reverse: bool
) -> None:
    if not {"formula", "rollup"} <= set(app.extensions["trellis"].field_types.names()):
        pytest.skip("needs the formula and rollup field types")
    objects = [
        {
            "api_name": "Invoice",
            "label": "Invoice",
            "fields": [
                {"api_name": "Name", "type": "text"},
                {
                    "api_name": "Total",
                    "type": "rollup",
                    "summarized_object": "InvoiceLine",
                    "relationship_field": "Invoice",
                    "function": "sum",
                    "summarized_field": "Amount",
                },
            ],
        },
        {
            "api_name": "InvoiceLine",
            "label": "Invoice line",
            "fields": [
                {
                    "api_name": "Invoice",
                    "type": "lookup",
                    "target": "Invoice",
                    "required": True,
                    "on_delete": "cascade",
                },
                {"api_name": "Amount", "type": "currency"},
                {
                    "api_name": "InvoiceTotal",
                    "type": "formula",
                    "expression": "Invoice.Total",
                    "return_type": "currency",
                },
            ],
        },
    ]
    package = {"trellis_package": 1, "objects": objects[::-1] if reverse else objects}
    plan = import_into(app, tenant, package)
    assert set(actions(plan).values()) == {"create"}
    before = counts(app, tenant)
    # The service fills in roll-up details (return type, function case): still unchanged.
    assert set(actions(import_into(app, tenant, package)).values()) == {"unchanged"}
    assert counts(app, tenant) == before
    invoice = tenant.api("POST", "/api/v1/objects/Invoice/records", json={"Name": "INV-1"})
    for amount in (30, 10):
        tenant.api(
            "POST",
            "/api/v1/objects/InvoiceLine/records",
            json={"Invoice": invoice.get_json()["id"], "Amount": amount},
        )
    total = tenant.api("GET", f"/api/v1/objects/Invoice/records/{invoice.get_json()['id']}")
    assert total.get_json()["Total"] == 40
    lines = tenant.api("GET", "/api/v1/objects/InvoiceLine/records").get_json()
    assert [line["InvoiceTotal"] for line in lines["data"]] == [40, 40]


@pytest.mark.parametrize(
    "package, field",
    [
        ({"trellis_package": 2, "objects": []}, "trellis_package"),
        ({"trellis_package": 1, "objects": {}}, "objects"),
        ({"trellis_package": 1, "objects": [], "rules": []}, "package"),
        ({"trellis_package": 1, "objects": [{"label": "No name"}]}, "objects.0"),
        (
            {
                "trellis_package": 1,
                "objects": [
                    {"api_name": "A", "label": "A", "fields": []},
                    {"api_name": "a", "label": "A", "fields": []},
                ],
            },
            "a",
        ),
    ],
)
def test_package_shape_errors(app: Flask, tenant: TenantFixture, package: dict, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        import_into(app, tenant, package)
    assert field in raised.value.fields


def test_a_failing_update_rolls_back_the_creates_before_it(
    app: Flask, tenant: TenantFixture
) -> None:
    import_into(app, tenant, PACKAGE)
    response = tenant.api(
        "POST", "/api/v1/objects/Company/records", json={"Name": "Acme", "Notes": "not a number"}
    )
    assert response.status_code == 201
    changed = copy.deepcopy(PACKAGE)
    changed["objects"][1]["fields"][2] = {"api_name": "Notes", "type": "number"}
    changed["objects"].append({"api_name": "Extra", "label": "Extra", "fields": []})
    before = counts(app, tenant)
    with pytest.raises(TrellisError) as raised:
        import_into(app, tenant, changed)
    assert raised.value.code == "data_loss"
    assert raised.value.message.startswith("Company: ")
    assert "Company.fields.Notes" in raised.value.fields
    assert counts(app, tenant) == before
    # Forced, the change applies (and the value that no longer fits is removed).
    plan = import_into(app, tenant, changed, force=True)
    assert actions(plan)["Company"] == "update" and actions(plan)["Extra"] == "create"


def test_yaml_scalars_stay_text() -> None:
    package = parse_package(
        "trellis_package: 1\nobjects:\n- api_name: A\n  label: A\n"
        "  fields:\n  - {api_name: Answer, type: picklist, "
        "values: [Yes, No, On], default: No}\n"
        "  - {api_name: Day, type: date, default: 2026-01-31}\n"
        "  - {api_name: Flag, type: checkbox, default: true}\n"
    )
    fields = package["objects"][0]["fields"]
    assert fields[0]["values"] == ["Yes", "No", "On"] and fields[0]["default"] == "No"
    assert fields[1]["default"] == "2026-01-31"
    assert fields[2]["default"] is True


@pytest.mark.parametrize("format", ["yaml", "json"])
def test_deep_nesting_is_refused(format: str) -> None:
    with pytest.raises(TrellisError) as raised:
        parse_package('{"objects": ' + "[" * 50000 + "]" * 50000 + "}", format)
    assert raised.value.status == 400 and "too deeply" in raised.value.message


@pytest.mark.parametrize(
    "text, format",
    [
        ('trellis_package: 1\nobjects:\n- {api_name: A, label: "A\\0"}\n', "yaml"),
        ('{"trellis_package": 1, "objects": [{"api_name": "A", "label": "\\ud800"}]}', "json"),
    ],
)
def test_text_postgresql_cannot_store_is_refused(text: str, format: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_package(text, format)
    assert list(raised.value.fields) == ["objects.0.label"]


def test_yaml_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 8)]
    with pytest.raises(TrellisError) as raised:
        parse_package("\n".join(lines))
    assert raised.value.code == "package_too_large"


# -- API -----------------------------------------------------------------------------------
def test_api_imports_yaml_and_json_and_exports_both(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    text = dump_package(PACKAGE, "yaml")
    dry = tenant.api(
        "POST", "/api/v1/meta/package?dry_run=true", data=text, content_type="application/yaml"
    )
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["dry_run"] is True and dry.get_json()["changed"] is True
    assert tenant.api("GET", "/api/v1/meta/objects").get_json()["data"] == []

    applied = tenant.api("POST", "/api/v1/meta/package", data=text, content_type="application/yaml")
    assert applied.status_code == 200
    assert applied.get_json()["plan"] == dry.get_json()["plan"]
    again = tenant.api("POST", "/api/v1/meta/package?force=false", json=PACKAGE)
    assert again.get_json()["changed"] is False

    as_json = tenant.api("GET", "/api/v1/meta/package")
    assert as_json.mimetype == "application/json"
    as_yaml = tenant.api("GET", "/api/v1/meta/package", headers={"Accept": "application/yaml"})
    assert as_yaml.mimetype == "application/yaml"
    assert "Accept" in as_yaml.headers["Vary"]
    assert yaml.safe_load(as_yaml.get_data(as_text=True)) == json.loads(as_json.get_data())
    assert as_json.get_data(as_text=True) == dump_package(export_from(app, tenant), "json")

    copied = other_tenant.api(
        "POST", "/api/v1/meta/package", data=as_json.get_data(), content_type="application/json"
    )
    assert copied.status_code == 200
    assert other_tenant.api("GET", "/api/v1/meta/package").get_data() == as_json.get_data()


def test_api_rejects_malformed_bodies(tenant: TenantFixture) -> None:
    malformed = tenant.api(
        "POST",
        "/api/v1/meta/package",
        data="objects: [\n  - a: b: c",
        content_type="application/yaml",
    )
    body = assert_envelope(malformed, 400, "malformed_yaml")
    assert "line" in body["error"]
    not_mapping = tenant.api(
        "POST", "/api/v1/meta/package", data="- 1\n- 2\n", content_type="application/yaml"
    )
    assert_envelope(not_mapping, 400, "malformed_package")
    wrong_type = tenant.api("POST", "/api/v1/meta/package", data="x", content_type="text/plain")
    assert_envelope(wrong_type, 415)
    bad_flag = tenant.api("POST", "/api/v1/meta/package?dry_run=maybe", json=PACKAGE)
    assert_envelope(bad_flag, 400)
    wrong_version = tenant.api(
        "POST", "/api/v1/meta/package", json={"trellis_package": 9, "objects": []}
    )
    assert "trellis_package" in assert_envelope(wrong_version, 422)["errors"]
    too_big = tenant.api(
        "POST",
        "/api/v1/meta/package",
        data=b"x" * (11 * 1024 * 1024),
        content_type="application/yaml",
    )
    assert_envelope(too_big, 413)


def test_api_needs_an_administrator(app: Flask, tenant: TenantFixture) -> None:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        user = create_user(
            connection, tenant.actor, email=f"clerk@{tenant.slug}.test", password=None, roles=[]
        )
        token, _ = create_token(
            connection, tenant.actor, user_id=user.id, name="clerk", scopes=("read", "write")
        )
    assert_envelope(tenant.api("GET", "/api/v1/meta/package", token=token), 403, "no_system_right")
    refused = tenant.api("POST", "/api/v1/meta/package", token=token, json=PACKAGE)
    assert_envelope(refused, 403, "no_system_right")
    assert tenant.api("GET", "/api/v1/meta/objects").get_json()["data"] == []
    assert_envelope(tenant.app.test_client().get("/api/v1/meta/package"), 401)


# -- command line --------------------------------------------------------------------------
def test_cli_export_and_import(
    app: Flask, tenant: TenantFixture, other_tenant: TenantFixture, tmp_path: Path
) -> None:
    source = tmp_path / "package.yaml"
    source.write_text(dump_package(PACKAGE, "yaml"))
    dry = run(app, "metadata", "import", "--tenant", tenant.slug, str(source), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[0].split() == ["create", "Deal"]
    assert "object created" in dry.output
    assert "nothing was changed" in dry.output
    assert counts(app, tenant)["meta_objects"] == 0

    applied = run(app, "metadata", "import", "--tenant", tenant.slug, str(source))
    assert applied.exit_code == 0, applied.output
    assert "Imported: 3 created." in applied.output
    again = run(app, "metadata", "import", "--tenant", tenant.slug, str(source))
    assert "Nothing to change (3 unchanged)." in again.output

    exported = run(app, "metadata", "export", "--tenant", tenant.slug)
    assert exported.exit_code == 0, exported.output
    assert exported.output == dump_package(export_from(app, tenant), "yaml")
    as_json = run(app, "metadata", "export", "--tenant", tenant.slug, "--format", "json")
    target = tmp_path / "copy.json"
    target.write_text(as_json.output)
    copied = run(app, "metadata", "import", "--tenant", other_tenant.slug, str(target))
    assert copied.exit_code == 0, copied.output
    assert run(app, "metadata", "export", "--tenant", other_tenant.slug).output == exported.output

    changed = copy.deepcopy(PACKAGE)
    changed["objects"][0]["fields"][0]["label"] = "Title"
    source.write_text(dump_package(changed, "yaml"))
    update = run(app, "metadata", "import", "--tenant", tenant.slug, str(source))
    assert "update     Deal\n    Name.label: 'Name' -> 'Title'\n" in update.output


def test_cli_errors_are_one_clear_message(
    app: Flask, tenant: TenantFixture, tmp_path: Path
) -> None:
    broken = copy.deepcopy(PACKAGE)
    broken["objects"][0]["fields"][1]["scale"] = 20
    source = tmp_path / "broken.yaml"
    source.write_text(dump_package(broken, "yaml"))
    result = run(app, "metadata", "import", "--tenant", tenant.slug, str(source))
    assert result.exit_code == 1
    assert "Deal.fields.Amount.scale" in result.output
    assert counts(app, tenant)["meta_objects"] == 0
    source.write_text("objects: [")
    malformed = run(app, "metadata", "import", "--tenant", tenant.slug, str(source))
    assert malformed.exit_code == 1 and "not valid YAML" in malformed.output
    unknown = run(app, "metadata", "export", "--tenant", "no-such-tenant")
    assert unknown.exit_code == 1 and "No tenant" in unknown.output
    assert "Traceback" not in result.output + malformed.output + unknown.output


def test_yaml_text_that_cannot_be_stored_is_a_422(tenant) -> None:
    body = (
        'trellis_package: 1\nobjects:\n  - api_name: Bad\n    label: "Bad\\0label"\n'
        "    fields: []\n"
    )
    response = tenant.api(
        "POST", "/api/v1/meta/package", data=body, content_type="application/yaml"
    )
    assert response.status_code == 422, response.get_json()
    assert "objects.0.label" in response.get_json()["errors"]

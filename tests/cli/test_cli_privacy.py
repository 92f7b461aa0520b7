"""``trellis privacy export|erase``: the privacy API's operations on the command line."""

from __future__ import annotations

import json
from typing import Any

from conftest import TenantFixture
from factories import PERSON_EMAIL, setup_people
from flask import Flask
from helpers import run_cli


def audit(tenant: TenantFixture, action: str) -> list[dict[str, Any]]:
    return tenant.api("GET", "/api/v1/audit", query_string={"action": action}).get_json()["data"]


def test_export_prints_the_document_and_is_audited(app: Flask, tenant: TenantFixture) -> None:
    people = setup_people(tenant)
    result = run_cli(
        app,
        "privacy",
        "export",
        "--tenant",
        tenant.slug,
        "--object",
        "Contact",
        "--record",
        people["jane"],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert {record["id"] for record in document["records"]} == {
        people[name] for name in ("jane", "lead", "binned_lead", "acme", "deal", "task")
    }
    (event,) = audit(tenant, "privacy.exported")
    assert event["actor_id"] is None and event["details"]["via"] == "cli"


def test_erase_previews_until_confirmed(app: Flask, tenant: TenantFixture) -> None:
    people = setup_people(tenant)
    arguments = ("privacy", "erase", "--tenant", tenant.slug, "--email", PERSON_EMAIL)
    preview = run_cli(app, *arguments)
    assert preview.exit_code == 1
    assert "Nothing was changed" in preview.output and '"updated": 4' in preview.output
    lead = f"/api/v1/objects/Lead/records/{people['lead']}"
    assert tenant.api("GET", lead).get_json()["Email"] == "jane.doe@example.com"
    assert audit(tenant, "privacy.erased") == []
    erased = run_cli(app, *arguments, "--confirm")
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.output)["counts"]["updated"] == 4
    assert tenant.api("GET", lead).get_json()["Email"].endswith("@anonymised.invalid")
    (event,) = audit(tenant, "privacy.erased")
    assert event["details"]["via"] == "cli" and event["details"]["mode"] == "anonymise"


def test_bad_input_is_a_one_line_error(app: Flask, tenant: TenantFixture) -> None:
    setup_people(tenant)
    nobody = run_cli(app, "privacy", "export", "--tenant", tenant.slug)
    assert nobody.exit_code == 1 and "Name the person" in nobody.output
    unknown = run_cli(
        app,
        "privacy",
        "erase",
        "--tenant",
        tenant.slug,
        "--object",
        "Nothing",
        "--record",
        "00000000-0000-4000-8000-000000000000",
        "--confirm",
    )
    assert unknown.exit_code == 1 and "No object 'Nothing'" in unknown.output
    assert audit(tenant, "privacy.erased") == []

"""The generated OpenAPI document, the docs page, and the API checked against the document.

The document is validated as OpenAPI 3.1, follows metadata changes at once and never
shows another tenant's objects. Schemathesis then generates requests from it and sends
them to the app through WSGI (no network): no request may cause a 500, and every
response must have a status code, content type, headers and body the document declares.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
import sqlalchemy as sa
from conftest import TenantFixture, new_tenant
from flask import Blueprint, Flask
from helpers import assert_envelope, login
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from trellis.hookspecs import hookimpl

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {
            "api_name": "Industry",
            "type": "picklist",
            "values": ["Retail", "Banking", {"value": "Mining", "active": False}],
        },
    ],
}
OPPORTUNITY = {
    "api_name": "Opportunity",
    "label": "Opportunity",
    "plural_label": "Opportunities",
    "fields": [
        {"api_name": "Name", "label": "Name", "type": "text", "required": True, "max_length": 120},
        {"api_name": "Amount", "type": "currency", "indexed": True},
        {
            "api_name": "Stage",
            "type": "picklist",
            "values": ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"],
        },
        {"api_name": "CloseDate", "type": "date"},
        {"api_name": "Account", "type": "lookup", "target": "Account", "on_delete": "restrict"},
        # One field of every other built-in type.
        {"api_name": "Description", "type": "long_text", "help_text": "What the deal is about."},
        {"api_name": "Notes", "type": "rich_text"},
        {"api_name": "ContactEmail", "type": "email", "external_id": True},
        {"api_name": "Phone", "type": "phone"},
        {"api_name": "Website", "type": "url"},
        {"api_name": "Quantity", "type": "number", "scale": 0, "precision": 6},
        {"api_name": "Probability", "type": "percent", "default": 10},
        {"api_name": "IsPrivate", "type": "checkbox"},
        {"api_name": "NextStepAt", "type": "datetime"},
        {"api_name": "MeetingTime", "type": "time"},
        {"api_name": "Tags", "type": "multi_picklist", "values": ["Hot", "Cold", "Partner"]},
        {"api_name": "Number", "type": "auto_number", "format": "OPP-{0000}"},
    ],
}
BUILT_IN_TYPES = {
    "text",
    "long_text",
    "rich_text",
    "email",
    "phone",
    "url",
    "number",
    "currency",
    "percent",
    "checkbox",
    "date",
    "datetime",
    "time",
    "picklist",
    "multi_picklist",
    "lookup",
    "auto_number",
}
DOCUMENT = "/api/v1/openapi.json"


def setup_sales(tenant: TenantFixture) -> None:
    for definition in (ACCOUNT, OPPORTUNITY):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_json()


def document(tenant: TenantFixture) -> dict[str, Any]:
    response = tenant.api("GET", DOCUMENT)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def parameters_of(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {parameter["name"]: parameter for parameter in operation.get("parameters", [])}


@pytest.fixture()
def sales(tenant: TenantFixture) -> TenantFixture:
    setup_sales(tenant)
    return tenant


def test_the_document_is_valid_openapi_3_1(sales: TenantFixture) -> None:
    assert {field["type"] for field in OPPORTUNITY["fields"]} == BUILT_IN_TYPES
    spec = document(sales)
    assert spec["openapi"] == "3.1.0"
    validate(spec, cls=OpenAPIV31SpecValidator)
    operation_ids = [
        operation["operationId"] for path in spec["paths"].values() for operation in path.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert {
        "listOpportunityRecords",
        "createOpportunityRecord",
        "getOpportunityRecord",
        "updateOpportunityRecord",
        "deleteOpportunityRecord",
        "restoreOpportunityRecord",
        "listOpportunityRecordHistory",
        "bulkOpportunityRecords",
        "listAccountRelatedOpportunityByAccount",
        "getMe",
        "listTokens",
        "listObjectDefinitions",
        "listMetadataRevisions",
        "listFieldTypes",
    } <= set(operation_ids)
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["servers"] == [{"url": "/api/v1", "description": "This Trellis server."}]


def test_every_api_route_is_documented(app: Flask, sales: TenantFixture) -> None:
    """Routes the generator has no description for (a plugin's, a new one) are still listed,
    under "Other", with their docstring as the summary."""
    spec = document(sales)
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        if path.startswith("/objects/"):
            # Account has every records path, and one related path: Opportunity.Account.
            path = path.replace("{api_name}", "Account").replace(
                "{relation}", "Opportunity.Account"
            )
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {rule.rule} is undocumented"
    described = [
        operation
        for path, item in spec["paths"].items()
        for operation in item.values()
        if re.match(r"/(me|tokens|meta/objects|meta/revisions|objects)\b", path)
    ]
    assert all(operation["tags"] != ["Other"] for operation in described)


def test_routes_without_a_description_are_listed_generically(make_app: Any) -> None:
    class ReportPlugin:
        @hookimpl
        def register_blueprints(self) -> list:
            blueprint = Blueprint("reports", __name__, url_prefix="/api/v1")

            @blueprint.post("/reports/<int:report_id>/run")
            def run_report(report_id: int) -> Any:
                """Run a saved report now."""
                return {"report": report_id}

            return [blueprint]

    app = make_app(plugins=(ReportPlugin(),))
    tenant = new_tenant(app)
    spec = document(tenant)
    validate(spec, cls=OpenAPIV31SpecValidator)
    run = spec["paths"]["/reports/{report_id}/run"]["post"]
    assert run["operationId"] == "runReportPost" and run["summary"] == "Run a saved report now."
    assert run["parameters"] == [
        {
            "name": "report_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
            "description": "The report id in the path.",
        }
    ]
    assert "2XX" in run["responses"] and "422" in run["responses"]


def test_record_schemas_follow_the_field_types(sales: TenantFixture) -> None:
    schemas = document(sales)["components"]["schemas"]
    record, create, patch = (
        schemas["Opportunity"],
        schemas["OpportunityInput"],
        schemas["OpportunityPatch"],
    )
    assert record["properties"]["id"] == {"type": "string", "format": "uuid", "readOnly": True}
    assert record["properties"]["version"] == {"type": "integer", "readOnly": True}
    assert record["properties"]["updated_at"]["format"] == "date-time"
    assert record["properties"]["owner_id"]["type"] == ["string", "null"]
    assert record["properties"]["Number"]["readOnly"] is True
    assert record["properties"]["Stage"]["enum"] == [
        "Prospecting",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
        None,
    ]
    assert record["properties"]["Amount"]["type"] == ["number", "null"]
    assert record["properties"]["Quantity"]["type"] == ["integer", "null"]
    assert record["properties"]["Tags"]["items"] == {
        "enum": ["Hot", "Cold", "Partner"],
        "x-enum-varnames": ["HOT", "COLD", "PARTNER"],
    }
    assert record["properties"]["Description"]["description"] == "What the deal is about."
    assert record["additionalProperties"] is False
    assert create["required"] == ["Name"] and create["additionalProperties"] is False
    assert create["properties"]["Name"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 120,
        "title": "Name",
    }
    assert "Number" not in create["properties"] and "id" not in create["properties"]
    assert "owner_id" in create["properties"]
    assert "required" not in patch and set(patch["properties"]) == set(create["properties"])
    industry = schemas["Account"]["properties"]["Industry"]
    assert industry["enum"] == ["Retail", "Banking", "Mining", None]
    envelope = schemas["ErrorEnvelope"]
    assert set(envelope["required"]) == {"ok", "status", "code", "error", "errors", "request_id"}
    assert envelope["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_paths_document_parameters_headers_and_errors(sales: TenantFixture) -> None:
    spec = document(sales)
    paths = spec["paths"]
    listing = paths["/objects/Opportunity/records"]["get"]
    parameters = parameters_of(listing)
    assert {
        "sort",
        "fields",
        "limit",
        "cursor",
        "count",
        "deleted",
        "Amount",
        "Amount__gte",
        "Stage__in",
        "Name__startswith",
        "Tags__contains",
        "CloseDate__lt",
        "created_at__gte",
        "owner_id__isnull",
        "Number__startswith",
    } <= set(parameters)
    assert "Description" not in parameters and "Description__contains" in parameters
    assert "IsPrivate__gt" not in parameters and "Notes__gt" not in parameters
    assert parameters["Stage"]["schema"]["enum"] == [
        "Prospecting",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
    ]
    assert parameters["CloseDate__lt"]["schema"] == {"type": "string", "format": "date"}
    assert parameters["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 200,
        "default": 50,
    }
    sort = parameters["sort"]["schema"]["pattern"]
    assert re.fullmatch(sort, "-Amount,Name") and re.fullmatch(sort, "created_at,-Number")
    assert not re.fullmatch(sort, "Tags") and not re.fullmatch(sort, "Nope")  # unsortable
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(page["properties"]) == {"data", "next_cursor", "total"}
    assert page["properties"]["data"]["items"] == {"$ref": "#/components/schemas/Opportunity"}
    one = paths["/objects/Opportunity/records/{record_id}"]
    assert one["get"]["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert set(parameters_of(one["patch"])) == {"record_id", "If-Match", "Idempotency-Key"}
    assert "412" in one["patch"]["responses"] and "204" in one["delete"]["responses"]
    assert "201" in paths["/objects/Opportunity/records"]["post"]["responses"]
    related = paths["/objects/Account/records/{record_id}/related/Opportunity.Account"]["get"]
    assert "Amount__gte" in parameters_of(related)  # the related object's filters
    assert related["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "data"
    ]["items"] == {"$ref": "#/components/schemas/Opportunity"}
    assert not any(
        path.startswith("/objects/Opportunity/records/{record_id}/related/") for path in paths
    )
    bulk = paths["/objects/Opportunity/bulk"]["post"]["requestBody"]["content"]
    body = bulk["application/json"]["schema"]["properties"]
    assert body["records"]["maxItems"] == 200 and body["atomic"]["type"] == "boolean"
    assert body["operation"]["enum"] == ["create", "update", "upsert", "delete"]
    for path in (
        "/me",
        "/tokens",
        "/tokens/{token_id}",
        "/meta/objects",
        "/meta/objects/{api_name}/fields/{field_name}",
        "/meta/revisions",
        "/meta/revisions/{number}/rollback",
        "/meta/field-types",
    ):
        assert path in paths
    created = paths["/objects/Opportunity/records"]["post"]["responses"]["201"]["headers"]
    assert created["Location"]["schema"] == {"type": "string", "format": "uri-reference"}
    envelope = {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}},
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}},
    }
    unauthorized = spec["components"]["responses"]["Unauthorized"]
    assert unauthorized["headers"]["WWW-Authenticate"]["required"] is True
    for item in paths.values():
        for operation in item.values():
            assert "401" in operation["responses"] and "500" in operation["responses"]
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    name = response["$ref"].rsplit("/", 1)[-1]
                    content = spec["components"]["responses"][name]["content"]
                    assert content == envelope


def test_automation_endpoints_are_described(app: Flask, sales: TenantFixture) -> None:
    from jsonschema import Draft202012Validator

    spec = document(sales)
    schemas = spec["components"]["schemas"]
    paths = {
        "/meta/automations": {"get", "post"},
        "/meta/automations/{api_name}": {"get", "put", "delete"},
        "/automation-runs": {"get"},
        "/automation-runs/{run_id}": {"get"},
        "/automation-runs/{run_id}/replay": {"post"},
    }
    for path, methods in paths.items():
        assert set(spec["paths"][path]) == methods
        for operation in spec["paths"][path].values():
            assert operation["tags"] == ["Automation"] and operation["summary"]
    create = spec["paths"]["/meta/automations"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AutomationInput"
    }
    assert {"201", "403", "404", "409", "422"} <= set(create["responses"])
    # The definition schema is the meta-schema's: every action type, every trigger.
    automation = schemas["AutomationInput"]
    assert {"object", "api_name", "trigger", "timing", "actions"} <= set(automation["required"])
    assert set(automation["properties"]["timing"]["enum"]) == {"before_save", "after_save"}
    actions = automation["properties"]["actions"]["items"]["oneOf"]
    assert {"update_fields", "create_record", "send_email", "call_webhook"} <= {
        variant["properties"]["type"].get("const") for variant in actions
    }
    listing = parameters_of(spec["paths"]["/automation-runs"]["get"])
    assert {"status", "automation", "record_id", "cursor", "limit"} <= set(listing)
    assert {"queued", "running", "succeeded", "failed", "dead", "skipped"} <= set(
        listing["status"]["schema"]["enum"]
    )
    replay = spec["paths"]["/automation-runs/{run_id}/replay"]["post"]
    assert {"202", "403", "404", "409"} <= set(replay["responses"])

    def conforms(name: str, body: Any) -> list[str]:
        validator = Draft202012Validator(
            {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
        )
        return [error.message for error in validator.iter_errors(body)]

    # Real answers match their schemas: a saved automation, and a run in the log.
    saved = sales.api(
        "POST",
        "/api/v1/meta/automations",
        json={
            "api_name": "wonTask",
            "object": "Opportunity",
            "trigger": "updated",
            "timing": "after_save",
            "only_when_changed_to_meet": True,
            "condition": 'ISPICKVAL(Stage, "Closed Won")',
            "actions": [
                {
                    "type": "send_email",
                    "to": ["ContactEmail"],
                    "subject": "Won {{ Name }}",
                    "body": "Well done.",
                }
            ],
        },
    )
    assert saved.status_code == 201, saved.get_json()
    assert conforms("SavedAutomation", saved.get_json()) == []
    assert (
        conforms("Automation", sales.api("GET", "/api/v1/meta/automations/wontask").get_json())
        == []
    )
    assert conforms("Automation", {"object": "Opportunity"}) != []  # the check can fail
    deal = sales.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "d"})
    with app.extensions["trellis"].database.owner() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO automation_runs (tenant_id, event_id, automation, object_id, "
                "record_id, trigger, status, attempts, actions_done, error) "
                "SELECT :tenant, 1, 'wonTask', object_id, id, 'updated', 'dead', 2, '[0]', 'boom' "
                "FROM records WHERE id = :record"
            ),
            {"tenant": sales.id, "record": deal.get_json()["id"]},
        )
    page = sales.api("GET", "/api/v1/automation-runs?status=dead").get_json()
    assert conforms("AutomationRun", page["data"][0]) == []
    assert page["next_cursor"] is None


def test_the_document_follows_metadata_changes(sales: TenantFixture) -> None:
    before = document(sales)
    assert "Region" not in before["components"]["schemas"]["Opportunity"]["properties"]
    added = sales.api(
        "POST",
        "/api/v1/meta/objects/Opportunity/fields",
        json={"api_name": "Region", "type": "picklist", "values": ["EMEA", "APAC"]},
    )
    assert added.status_code == 201, added.get_json()
    after = document(sales)
    assert after["components"]["schemas"]["Opportunity"]["properties"]["Region"]["enum"] == [
        "EMEA",
        "APAC",
        None,
    ]
    assert "Region__in" in parameters_of(after["paths"]["/objects/Opportunity/records"]["get"])
    assert after["info"]["version"] != before["info"]["version"]
    assert sales.api("DELETE", "/api/v1/meta/objects/Opportunity/fields/Region").status_code == 204
    assert "Region" not in document(sales)["components"]["schemas"]["Opportunity"]["properties"]
    created = sales.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Contact",
            "label": "Contact",
            "fields": [{"api_name": "Employer", "type": "lookup", "target": "Account"}],
        },
    )
    assert created.status_code == 201
    spec = document(sales)
    assert "/objects/Contact/records" in spec["paths"]
    related = [
        path.rpartition("/")[2]
        for path in spec["paths"]
        if path.startswith("/objects/Account/records/{record_id}/related/")
    ]
    assert related == ["Contact.Employer", "Opportunity.Account"]
    employer = spec["paths"]["/objects/Account/records/{record_id}/related/Contact.Employer"]
    assert employer["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "properties"
    ]["data"]["items"] == {"$ref": "#/components/schemas/Contact"}
    validate(spec, cls=OpenAPIV31SpecValidator)


def test_another_tenants_objects_never_appear(
    sales: TenantFixture, other_tenant: TenantFixture
) -> None:
    created = other_tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Secret",
            "label": "Secret",
            "fields": [{"api_name": "Code", "type": "text"}],
        },
    )
    assert created.status_code == 201
    mine = document(sales)
    assert "Secret" not in mine["components"]["schemas"]
    assert not any("Secret" in path for path in mine["paths"])
    assert sales.slug in mine["info"]["title"]
    theirs = document(other_tenant)
    assert "Secret" in theirs["components"]["schemas"]
    assert "Opportunity" not in theirs["components"]["schemas"]
    assert sales.slug not in theirs["info"]["title"]


def test_the_document_needs_authentication(client: Any) -> None:
    assert_envelope(client.get(DOCUMENT), 401, "unauthorized")
    assert_envelope(
        client.get(DOCUMENT, headers={"Authorization": "Bearer trl_nope"}), 401, "unauthorized"
    )


def test_a_browser_session_gets_the_document_and_the_docs_page(
    app: Flask, sales: TenantFixture
) -> None:
    browser = app.test_client()
    assert login(browser, sales).status_code == 302
    assert "Opportunity" in browser.get(DOCUMENT).get_json()["components"]["schemas"]
    page = browser.get("/api/docs").get_data(as_text=True)
    assert sales.slug in page and '"csrfToken": null' not in page


def test_object_names_that_clash_with_other_schemas_get_a_suffix(tenant: TenantFixture) -> None:
    for name in ("ErrorEnvelope", "Deal", "DealInput"):
        response = tenant.api(
            "POST",
            "/api/v1/meta/objects",
            json={
                "api_name": name,
                "label": name,
                "fields": [{"api_name": "Title", "type": "text"}],
            },
        )
        assert response.status_code == 201, response.get_json()
    spec = document(tenant)
    validate(spec, cls=OpenAPIV31SpecValidator)
    schemas = spec["components"]["schemas"]
    assert "ok" in schemas["ErrorEnvelope"]["properties"]
    assert "Title" in schemas["ErrorEnvelope_2"]["properties"]
    assert "version" in schemas["DealInput"]["properties"]  # the DealInput object
    assert "version" not in schemas["DealInput_2"]["properties"]  # Deal's input schema
    create = spec["paths"]["/objects/Deal/records"]["post"]["requestBody"]
    assert create["content"]["application/json"]["schema"]["$ref"].endswith("/DealInput_2")


def test_the_docs_page_and_its_assets_are_served_locally(client: Any) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '"specUrl": "/api/v1/openapi.json"' in html
    assert not re.search(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", html, re.IGNORECASE), (
        "the docs page must load nothing from another site"
    )
    assets = re.findall(r'(?:src|href)="(/api/docs/static/[^"]+)"', html)
    assert {asset.rsplit(".", 1)[-1] for asset in assets} == {"css", "js", "png"}
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.mimetype in {"text/javascript", "text/css", "image/png"}
        assert response.data
        response.close()
    assert_envelope(client.get("/api/docs/static/index.html"), 404)
    assert_envelope(client.get("/api/docs/static/../../setup.cfg"), 404)


# Inputs that once made the API answer 500; each now gets the envelope with a 4xx.
RECORDS = "/api/v1/objects/Opportunity/records"
MALFORMED = [
    ("GET", f"{RECORDS}?Stage=", None, 200),  # blank filter value
    ("GET", f"{RECORDS}?CloseDate__gt=", None, 400),
    ("GET", f"{RECORDS}?version=1e999999999", None, 400),  # numeric overflow
    ("GET", f"{RECORDS}?version__in=1,NaN", None, 400),
    ("GET", f"{RECORDS}?Name__contains=%00", None, 400),  # NUL in a filter
    ("GET", f"{RECORDS}?Number=%00", None, 400),
    ("GET", f"{RECORDS}?fields=Nope", None, 400),
    ("GET", f"{RECORDS}?sort=-Number", None, 200),  # auto-numbers sort and filter
    ("GET", "/api/v1/meta/revisions?before=%C2%B2", None, 400),
    ("GET", "/api/v1/meta/revisions?before=36893488147419103231", None, 200),
    ("GET", "/api/v1/meta/revisions/36893488147419103231", None, 404),
    ("POST", RECORDS, '{"Name": "\\ud800"}', 422),  # unpaired surrogate
    ("POST", RECORDS, "[" * 100_000 + "]" * 100_000, 400),  # nested too deep
    ("POST", "/api/v1/tokens", '{"name": "a\\u0000b"}', 422),
    (
        "POST",
        "/api/v1/meta/objects",
        '{"api_name": "X", "label": "X", "fields": '
        '[{"api_name": "A", "type": "lookup", "target": 5}, {"api_name": "B", "type": []}]}',
        422,
    ),
    (
        "POST",
        "/api/v1/meta/objects?message=%00",
        '{"api_name": "Y", "label": "Y", "fields": []}',
        400,
    ),  # no NUL in any parameter
    ("POST", "/api/v1/objects/Opportunity/bulk", '{"records": [{}], "operation": []}', 400),
    (
        "POST",
        "/api/v1/meta/formulas/check",
        '{"object": "Opportunity", "expression": "1", "purpose": []}',
        400,
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "status"), MALFORMED)
def test_malformed_input_is_a_client_error(
    sales: TenantFixture, method: str, url: str, body: str | None, status: int
) -> None:
    response = sales.api(method, url, data=body, content_type="application/json")
    if status >= 400:
        assert_envelope(response, status)
    else:
        assert response.status_code == status, response.get_json()


# -- property-based checks with Schemathesis -----------------------------------------------
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SETTINGS = hypothesis.settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
MISSING_ID = "00000000-0000-4000-8000-000000000000"


def seed_records(tenant: TenantFixture) -> dict[str, list[str]]:
    """A few real records for generated calls to find."""
    account = tenant.api(
        "POST", "/api/v1/objects/Account/records", json={"Name": "Acme", "Industry": "Retail"}
    ).get_json()
    ids = {"Account": [account["id"]], "Opportunity": []}
    for number in range(3):
        created = tenant.api(
            "POST",
            "/api/v1/objects/Opportunity/records",
            json={
                "Name": f"Deal {number}",
                "Amount": 1000 * number,
                "Stage": "Prospecting",
                "Account": account["id"],
                "Tags": ["Hot"],
                "CloseDate": "2026-03-31",
            },
        )
        assert created.status_code == 201, created.get_json()
        ids["Opportunity"].append(created.get_json()["id"])
    return ids


def narrowed(
    spec: dict[str, Any], choices: Callable[[str, str, str], list[Any] | None]
) -> dict[str, Any]:
    """A copy of the document whose path parameters take only ``choices(path, method, name)``
    (unless None): random ids and names would almost never find anything."""
    spec = copy.deepcopy(spec)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                values = choices(path, method, parameter["name"])
                if parameter["in"] == "path" and values is not None:
                    parameter["schema"] = {"enum": values}
    return spec


def load_schema(app: Flask, spec: dict[str, Any]) -> schemathesis.BaseSchema:
    """The document as Schemathesis sees it, calling the app through WSGI. Generation is
    positive and negative; strings may hold NUL characters, which PostgreSQL cannot store."""
    config = schemathesis.Config.from_dict(
        {"phases": {"coverage": {"enabled": False}}, "generation": {"allow-x00": True}}
    )
    loaded = schemathesis.openapi.from_dict(spec, config=config)
    loaded.app = app
    return loaded


def uncompressed(headers: dict[str, str]) -> dict[str, str]:
    """Schemathesis reads a WSGI answer's body as sent, without decoding a compressed one
    (tests/api/test_compression.py checks those)."""
    return {**headers, "Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def sales_api(app: Flask) -> tuple[schemathesis.BaseSchema, dict[str, str]]:
    """A sales tenant with a few records for the records calls."""
    tenant = new_tenant(app, prefix="st")
    setup_sales(tenant)
    ids = seed_records(tenant)

    def record_ids(path: str, method: str, name: str) -> list[Any] | None:
        found = re.match(r"/objects/(\w+)/", path)
        if name != "record_id" or found is None:
            return None
        # Deletes get one record, so that the others live on for the other operations.
        known = ids[found.group(1)]
        return [*(known[:1] if method == "delete" else known), MISSING_ID]

    return load_schema(app, narrowed(document(tenant), record_ids)), uncompressed(tenant.headers())


@pytest.fixture(scope="module")
def admin_api(app: Flask) -> tuple[schemathesis.BaseSchema, dict[str, str]]:
    """A tenant of its own for the metadata and token calls, which change what exists.

    Destructive calls (deleting, replacing, purging, rolling back) get a scratch object and
    the revision that created it, so the sales objects stay for the other calls."""
    tenant = new_tenant(app, prefix="sa")
    setup_sales(tenant)
    scratch = tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Scratch",
            "label": "Scratch",
            "fields": [
                {"api_name": "Note", "type": "text"},
                {"api_name": "Size", "type": "number"},
            ],
        },
    )
    assert scratch.status_code == 201
    everyday = {
        "api_name": ["Opportunity", "Account", "Missing"],
        "field_name": ["Name", "Amount", "Stage", "Tags", "Missing"],
        "number": [1, 2, 3, 99],
    }
    destructive = {
        "api_name": ["Scratch", "Missing"],
        "field_name": ["Note", "Missing"],
        "number": [3, 99],
    }

    def choices(path: str, method: str, name: str) -> list[Any] | None:
        harmful = method in {"put", "delete"} or path.endswith(("/purge", "/rollback"))
        return (destructive if harmful else everyday).get(name)

    return load_schema(app, narrowed(document(tenant), choices)), uncompressed(tenant.headers())


@pytest.fixture(scope="module")
def sales_schema(sales_api: tuple[schemathesis.BaseSchema, dict[str, str]]) -> Any:
    return sales_api[0]


@pytest.fixture(scope="module")
def admin_schema(admin_api: tuple[schemathesis.BaseSchema, dict[str, str]]) -> Any:
    return admin_api[0]


records_api = schemathesis.pytest.from_fixture("sales_schema").include(path_regex=r"^/objects/")
static_api = schemathesis.pytest.from_fixture("admin_schema").exclude(path_regex=r"^/objects/")


def whole_path(case: schemathesis.Case) -> schemathesis.Case:
    """The case with ``#`` and ``?`` escaped in its path parameters: Schemathesis puts them
    in the URL as they are, where they would end the path (a fragment, a query string) and
    send the call to another route than the one under test."""
    if case.path_parameters:
        case.path_parameters = {
            name: _escaped(value) for name, value in case.path_parameters.items()
        }
    return case


def _escaped(value: Any) -> Any:
    # A value of the wrong type (a list where a string belongs) goes into the URL as its
    # text, ``['?']``, so it is escaped as that text.
    if isinstance(value, list | dict | tuple):
        value = str(value)
    return value.replace("#", "%23").replace("?", "%3F") if isinstance(value, str) else value


@records_api.parametrize()
@SETTINGS
def test_records_endpoints_conform_to_the_document(
    case: schemathesis.Case, sales_api: tuple[schemathesis.BaseSchema, dict[str, str]]
) -> None:
    whole_path(case).call_and_validate(headers=sales_api[1], checks=CHECKS)


@static_api.parametrize()
@SETTINGS
def test_metadata_and_token_endpoints_conform_to_the_document(
    case: schemathesis.Case, admin_api: tuple[schemathesis.BaseSchema, dict[str, str]]
) -> None:
    whole_path(case).call_and_validate(headers=admin_api[1], checks=CHECKS)


def test_every_operation_parameter_and_tag_is_described(sales: TenantFixture) -> None:
    spec = document(sales)
    assert spec["info"]["license"]["name"] and spec["info"]["license"]["url"].startswith("https")
    assert set(spec["info"]["contact"]) == {"name", "url", "email"}
    assert spec["info"]["contact"]["url"].endswith("/api/docs")
    declared = {tag["name"]: tag["description"] for tag in spec["tags"]}
    assert list(declared) == sorted(declared, key=str.lower)
    operations = [
        operation
        for section in ("paths", "webhooks")
        for item in spec[section].values()
        for operation in item.values()
    ]
    for operation in operations:
        assert operation["description"].strip(), operation["operationId"]
        assert all(tag in declared and declared[tag] for tag in operation["tags"])
        for parameter in operation.get("parameters", []):
            assert parameter["description"].strip(), (operation["operationId"], parameter)
    assert {"Opportunity", "Account", "Webhooks", "Access"} <= set(declared)


def test_enum_members_get_names_a_client_generator_can_use(sales: TenantFixture) -> None:
    """Roll-up functions come in both cases and picklist values may differ only in
    punctuation: each member gets a distinct name (``x-enum-varnames``)."""
    added = sales.api(
        "POST",
        "/api/v1/meta/objects/Account/fields",
        json={"api_name": "Grade", "type": "picklist", "values": ["A/B", "A-B", "1st", "é"]},
    )
    assert added.status_code == 201, added.get_json()
    schemas = document(sales)["components"]["schemas"]
    function = schemas["FieldDefinition"]["properties"]["function"]
    names = dict(zip(function["enum"], function["x-enum-varnames"], strict=True))
    assert names["COUNT"] == "COUNT" and names["count"] == "COUNT_2"
    assert len(set(names.values())) == len(names)
    grade = schemas["Account"]["properties"]["Grade"]
    assert grade["enum"] == ["A/B", "A-B", "1st", "é", None]
    assert grade["x-enum-varnames"] == ["A_B", "A_B_2", "VALUE_1ST", "BLANK"]
    # The field types' own schemas are not changed by naming the document's members.
    field_types = sales.api("GET", "/api/v1/meta/field-types")
    assert "x-enum-varnames" not in field_types.get_data(as_text=True)

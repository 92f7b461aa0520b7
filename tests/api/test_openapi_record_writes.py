"""The OpenAPI document of record writes: the upsert path by external id with its 200
and 201 answers, the Idempotency-Key header on every record write, and bulk upserts."""

from __future__ import annotations

from conftest import TenantFixture
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from trellis.api.openapi_schema import ERRORS

CUSTOMER = {
    "api_name": "Customer",
    "label": "Customer",
    "fields": [
        {"api_name": "Name", "type": "text"},
        {"api_name": "Code", "type": "text", "external_id": True},
        {"api_name": "Legacy", "type": "number", "external_id": True},
    ],
}
PLAIN = {"api_name": "Note", "label": "Note", "fields": [{"api_name": "Body", "type": "text"}]}


def test_upserts_and_idempotency_keys_are_documented(tenant: TenantFixture) -> None:
    for definition in (CUSTOMER, PLAIN):
        assert tenant.api("POST", "/api/v1/meta/objects", json=definition).status_code == 201
    spec = tenant.api("GET", "/api/v1/openapi.json").get_json()
    validate(spec, cls=OpenAPIV31SpecValidator)
    paths = spec["paths"]
    upsert = paths["/objects/Customer/records/by/{field_name}/{value}"]["put"]
    parameters = {each["name"]: each for each in upsert["parameters"]}
    assert parameters["field_name"]["schema"]["enum"] == ["Code", "Legacy"]
    assert {"value", "If-Match", "Idempotency-Key"} <= set(parameters)
    responses = upsert["responses"]
    assert {"200", "201", "409", "412", "422"} <= set(responses)
    assert "Location" in responses["201"]["headers"] and "ETag" in responses["200"]["headers"]
    assert responses["409"]["$ref"].endswith(ERRORS[409][0])
    # An object without external ids still has the path: its answer is a 422.
    plain = paths["/objects/Note/records/by/{field_name}/{value}"]["put"]
    assert {each["name"]: each for each in plain["parameters"]}["field_name"]["schema"] == {
        "type": "string"
    }
    writes = [
        paths["/objects/Customer/records"]["post"],
        paths["/objects/Customer/records/{record_id}"]["patch"],
        paths["/objects/Customer/records/{record_id}/restore"]["post"],
        paths["/objects/Customer/bulk"]["post"],
        upsert,
    ]
    for operation in writes:
        names = {each["name"] for each in operation["parameters"]}
        assert "Idempotency-Key" in names, operation["operationId"]
        assert {"409", "422"} <= set(operation["responses"]), operation["operationId"]
    assert "Location" in paths["/objects/Customer/records"]["post"]["responses"]["201"]["headers"]
    bulk = paths["/objects/Customer/bulk"]["post"]["requestBody"]["content"]["application/json"]
    properties = bulk["schema"]["properties"]
    assert "upsert" in properties["operation"]["enum"]
    assert properties["by"]["enum"] == ["Code", "Legacy"]
    assert "created" in spec["components"]["schemas"]["BulkResult"]["properties"]

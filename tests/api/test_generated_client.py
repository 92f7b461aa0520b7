"""A client generated from the live document works: openapi-python-client, with its
default settings, generates a package from a tenant's ``/api/v1/openapi.json`` served on a
real port, and a script through that package creates, reads, lists, changes and deletes
records, and gets conflicts and validation errors back as the error model."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import new_tenant, serving
from factories import setup_integration_crm
from flask import Flask


@pytest.fixture(scope="module")
def live_server(app: Flask) -> Iterator[str]:
    """The test app on a real local port."""
    with serving(app) as base_url:
        yield base_url


def live_document(base: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def generate(document: dict[str, Any], folder: Path) -> tuple[ModuleType, str]:
    """Run the generator with its defaults; import the package it wrote."""
    source = folder / "openapi.json"
    source.write_text(json.dumps(document))
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(source)]
        + ["--output-path", str(folder / "client")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "will not be generated" not in output, output
    # The one warning left: the CSV upload's text/csv body, which the generator cannot
    # type; the same endpoint is generated from its application/octet-stream body.
    assert "Unable to parse" not in output and "Cannot" not in output, output
    (package,) = [path.parent for path in (folder / "client").glob("*/client.py")]
    sys.path.insert(0, str(package.parent))
    return importlib.import_module(package.name), package.name


@pytest.fixture()
def generated(app: Flask, live_server: str, tmp_path: Path) -> Iterator[Any]:
    tenant = new_tenant(app, prefix="gc")
    setup_integration_crm(tenant)
    package, name = generate(live_document(live_server, tenant.token), tmp_path)
    client = package.AuthenticatedClient(base_url=f"{live_server}/api/v1", token=tenant.token)

    def module(path: str) -> Any:
        return importlib.import_module(f"{name}.{path}")

    yield client, module
    sys.path.remove(str(tmp_path / "client"))
    for loaded in [loaded for loaded in sys.modules if loaded.split(".")[0] == name]:
        del sys.modules[loaded]


@pytest.mark.slow
def test_a_generated_client_works_end_to_end(generated: Any) -> None:
    client, module = generated
    models = module("models")
    accounts, contacts = module("api.account"), module("api.contact")

    def api(group: ModuleType, operation: str) -> Any:
        return importlib.import_module(f"{group.__name__}.{operation}")

    # Create: the saved record, its ETag and its URL.
    created = api(accounts, "create_account_record").sync_detailed(
        client=client,
        body=models.AccountInput(
            name="Acme", code="AC-1", tier=models.AccountInputTier.VALUE_1ST_CLASS
        ),
    )
    assert created.status_code == 201, created.content
    acme = created.parsed
    assert isinstance(acme, models.Account) and acme.name == "Acme"
    assert created.headers["Location"] == f"/api/v1/objects/Account/records/{acme.id}"
    assert created.headers["ETag"] == '"1"' and acme.version == 1
    assert acme.tier.value == "1st class"

    # Read, with and without fields=.
    read = api(accounts, "get_account_record").sync(client=client, record_id=acme.id)
    assert isinstance(read, models.Account) and read.code == "AC-1" and read.label == "Acme!"
    narrow = api(accounts, "get_account_record").sync(
        client=client, record_id=acme.id, fields="Name"
    )
    assert narrow.name == "Acme" and isinstance(narrow.code, module("types").Unset)

    # A contact under the account, found by a list filter and as a related record.
    person = api(contacts, "create_contact_record").sync(
        client=client, body=models.ContactInput(last_name="Hopper", account=acme.id)
    )
    assert isinstance(person, models.Contact) and person.account == acme.id
    listed = api(contacts, "list_contact_records").sync(client=client, last_name_startswith="Hop")
    assert [each.id for each in listed.data] == [person.id]
    related = api(accounts, "list_account_related_contact_by_account").sync(
        client=client, record_id=acme.id
    )
    assert [type(each) for each in related.data] == [models.Contact]
    assert related.data[0].last_name == "Hopper"

    # Change with If-Match; a stale version is a 412 parsed as the error model.
    changed = api(accounts, "update_account_record").sync_detailed(
        client=client, record_id=acme.id, body=models.AccountPatch(name="Acme Ltd"), if_match='"1"'
    )
    assert changed.status_code == 200 and changed.parsed.version == 2
    stale = api(accounts, "update_account_record").sync_detailed(
        client=client, record_id=acme.id, body=models.AccountPatch(name="Old"), if_match='"1"'
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.ErrorEnvelope)
    assert stale.parsed.code == "stale_version"

    # A failed validation rule: 422 with the message at its field.
    invalid = api(contacts, "create_contact_record").sync_detailed(
        client=client, body=models.ContactInput(last_name="X")
    )
    assert invalid.status_code == 422 and isinstance(invalid.parsed, models.ErrorEnvelope)
    assert invalid.parsed.errors.additional_properties["LastName"] == ["Give at least two letters."]

    # A unique field's value taken by another record.
    duplicate = api(accounts, "create_account_record").sync_detailed(
        client=client, body=models.AccountInput(name="Copy", code="AC-1")
    )
    assert isinstance(duplicate.parsed, models.ErrorEnvelope), duplicate.content
    assert (duplicate.status_code, list(duplicate.parsed.errors.additional_properties)) == (
        422,
        ["Code"],
    )

    # Upsert by external id: 201 with Location when created, 200 when updated.
    upsert = api(accounts, "upsert_account_record")
    erp = {"client": client, "field_name": models.UpsertAccountRecordFieldName.ERP_CODE}
    first = upsert.sync_detailed(**erp, value="E-1", body=models.AccountPatch(name="Initech"))
    assert first.status_code == 201 and isinstance(first.parsed, models.Account)
    assert first.headers["Location"].endswith(str(first.parsed.id))
    again = upsert.sync_detailed(**erp, value="E-1", body=models.AccountPatch(code="IN-1"))
    assert again.status_code == 200 and again.parsed.id == first.parsed.id
    assert (again.parsed.name, again.parsed.code, again.parsed.erp_code) == (
        "Initech",
        "IN-1",
        "E-1",
    )

    # A retried create with the same Idempotency-Key gets the first answer, writes nothing.
    create = api(accounts, "create_account_record")
    body = models.AccountInput(name="Once")
    sent = create.sync_detailed(client=client, body=body, idempotency_key="retry-1")
    retried = create.sync_detailed(client=client, body=body, idempotency_key="retry-1")
    assert (sent.status_code, retried.status_code) == (201, 201)
    assert retried.parsed.id == sent.parsed.id
    assert retried.headers["Idempotent-Replayed"] == "true"
    onces = api(accounts, "list_account_records").sync(client=client, name="Once")
    assert [each.id for each in onces.data] == [sent.parsed.id]

    # Delete; the record is gone for reads.
    deleted = api(contacts, "delete_contact_record").sync_detailed(
        client=client, record_id=person.id
    )
    assert deleted.status_code == 204
    gone = api(contacts, "get_contact_record").sync_detailed(client=client, record_id=person.id)
    assert gone.status_code == 404 and gone.parsed.code == "not_found"

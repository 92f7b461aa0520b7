"""Lookups of an import, resolved for a whole batch at once: a name two records share
refuses its row with the reason, and records the importing user may not read are not
found, while the other rows of the same batch are written."""

from __future__ import annotations

from typing import Any

from access_helpers import member, sharing
from access_worlds import EVERY_RIGHT, permission_set
from import_worlds import new_import, setup_contacts, upload


def contacts_file(*accounts: str) -> str:
    """A file of contacts, one for each account name."""
    rows = [f"Person {n},p{n}@example.com,{name}" for n, name in enumerate(accounts, start=1)]
    return "\n".join(["Full name,Email,Account", *rows]) + "\n"


def dry_run(tenant: Any, job_id: str, token: str | None = None) -> dict[str, Any]:
    response = tenant.api("POST", f"/api/v1/imports/{job_id}/dry-run", token=token)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_a_name_two_records_share_refuses_only_its_rows(tenant: Any) -> None:
    setup_contacts(tenant)
    second = tenant.api("POST", "/api/v1/objects/Account/records", json={"Name": "Acme"})
    assert second.status_code == 201, second.get_json()
    result = dry_run(tenant, new_import(tenant, contacts_file("Acme", "Globex", "Acme")))
    assert (result["would_create"], result["rejected"]) == (1, 2)
    reasons = {error["row"]: error["reason"] for error in result["errors"]}
    assert set(reasons) == {1, 3}
    assert reasons[1] == "Account: 2 Account records are named 'Acme'; match by a unique field."


def test_rows_whose_lookups_name_records_the_user_may_not_read_are_refused(tenant: Any) -> None:
    setup_contacts(tenant)  # Acme and Globex, the administrator's
    sharing(tenant, "Account", sharing_model="private")
    permission_set(tenant, "importer", all_objects=EVERY_RIGHT, system=["api", "import"])
    user = member(tenant, "importer", permission_sets=["importer"])
    own = user.api("POST", "/api/v1/objects/Account/records", json={"Name": "Initech"})
    assert own.status_code == 201, own.get_json()
    job = user.api("POST", "/api/v1/imports", json={"object": "Contact"}).get_json()["id"]
    text = contacts_file("Initech", "Acme", "Globex")
    assert upload(tenant, job, text, user.token).status_code == 200
    result = dry_run(tenant, job, user.token)
    assert (result["would_create"], result["rejected"]) == (1, 2)
    reasons = {error["row"]: error["reason"] for error in result["errors"]}
    # As if the administrator's accounts did not exist: the refusal does not reveal them.
    assert reasons[2] == "Account: no Account named 'Acme'."
    assert reasons[3] == "Account: no Account named 'Globex'."

"""Who may import: the import system right and the object's create (and for upserts,
edit) rights; field-level security refuses mapping a field the user may not edit. A
job is its creator's alone."""

from __future__ import annotations

from typing import Any

from access_helpers import member
from helpers import assert_envelope
from import_worlds import contacts, set_mapping, setup_contacts, upload


def permission_set(tenant: Any, name: str, **grants: Any) -> None:
    body = {"api_name": name, "label": name, **grants}
    response = tenant.api("POST", "/api/v1/meta/permission-sets", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_importing_needs_the_import_right_and_create_rights(tenant: Any) -> None:
    setup_contacts(tenant)
    permission_set(tenant, "no_import", all_objects={"read": True, "create": True}, system=["api"])
    permission_set(tenant, "reader", all_objects={"read": True}, system=["api", "import"])
    permission_set(
        tenant, "creator", all_objects={"read": True, "create": True}, system=["api", "import"]
    )
    body = {"object": "Contact"}
    plain = member(tenant, "plain", permission_sets=["no_import"])
    assert_envelope(plain.api("POST", "/api/v1/imports", json=body), 403, "no_system_right")
    reader = member(tenant, "reader", permission_sets=["reader"])
    assert_envelope(reader.api("POST", "/api/v1/imports", json=body), 403)
    creator = member(tenant, "creator", permission_sets=["creator"])
    # Creating is enough for an insert, not for an upsert (that edits records).
    upsert = {**body, "mode": "upsert", "key_field": "Email"}
    assert_envelope(creator.api("POST", "/api/v1/imports", json=upsert), 403)
    created = creator.api("POST", "/api/v1/imports", json=body)
    assert created.status_code == 201, created.get_json()
    job_id = created.get_json()["id"]
    # Someone else's job does not exist for them, administrators included.
    assert_envelope(tenant.api("GET", f"/api/v1/imports/{job_id}"), 404, "unknown_import")
    # A file with record ids updates records: the creator may not edit, so it is refused.
    with_ids = "Id,Full name\n00000000-0000-0000-0000-000000000000,Ada\n"
    assert upload(tenant, job_id, with_ids, creator.token).status_code == 200
    assert_envelope(creator.api("POST", f"/api/v1/imports/{job_id}/dry-run"), 403)


def test_fields_the_user_may_not_edit_cannot_be_mapped(tenant: Any) -> None:
    setup_contacts(tenant)
    permission_set(
        tenant,
        "no_age",
        all_objects={"read": True, "create": True, "edit": True},
        system=["api", "import"],
        fields={"Contact.Age": {"read": True, "edit": False}},
    )
    user = member(tenant, "user", permission_sets=["no_age"])
    job_id = user.api("POST", "/api/v1/imports", json={"object": "Contact"}).get_json()["id"]
    assert upload(user.tenant, job_id, "Full name,Age\nAda,40\n").status_code == 404  # admin's
    assert upload(tenant, job_id, "Full name,Age\nAda,40\n", user.token).status_code == 200
    mapping = user.api("GET", f"/api/v1/imports/{job_id}/mapping").get_json()
    assert mapping["suggested"][1] == {"column": "Age", "field": None, "match": None}
    wanted = [{"column": "Full name", "field": "Name"}, {"column": "Age", "field": "Age"}]
    refused = set_mapping(tenant, job_id, wanted, user.token)
    body = assert_envelope(refused, 422, "bad_mapping")
    assert "not editable by you" in body["errors"]["Age"][0]
    assert contacts(tenant) == []
